import { createClient } from '../../src/core/client';
import { TransportError } from '../../src/core/errors';
import type { OpenSession } from '../../src/daemon/sessionWatcher';
import { createMemoryTransport, type MemoryHub } from '../../src/transports/memory';

/**
 * Sessions on an in-memory broker (race sequencing, like AMQP and XMPP) for the daemon's unit
 * tests: `failures.opens` makes that many opens fail as an unreachable backend would, and
 * `hangOnClose` makes closing a session never finish (a connection that stopped answering).
 */
export function memorySessions(hub: MemoryHub) {
  const failures = { opens: 0, hangOnClose: false };
  let opened = 0;
  const open: OpenSession = async (config, _logger, extra) => {
    opened++;
    if (failures.opens > 0) {
      failures.opens--;
      throw new TransportError('FK_TRANSPORT_UNAVAILABLE', 'broker down', { retryable: true });
    }
    const transport = createMemoryTransport(hub);
    const client = createClient({
      transport,
      user: config.user,
      sequencing: 'race',
      ...(extra.clock ? { clock: extra.clock } : {}),
      ...(extra.onRecord ? { onRecord: extra.onRecord } : {}),
      ...(extra.onHistoryError ? { onHistoryError: extra.onHistoryError } : {}),
    });
    await client.start();
    const close = (): Promise<void> => (failures.hangOnClose ? new Promise<void>(() => undefined) : client.close());
    return { client, transport, kind: 'amqp', close };
  };
  return {
    open,
    failures,
    get opened() {
      return opened;
    },
  };
}
