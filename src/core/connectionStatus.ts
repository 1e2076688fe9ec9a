import type { Logger } from './logger';
import type { Transport } from './transport';

/**
 * @internal
 * Whether a client's transport is online, as its last status said. Writes are refused while it
 * is not (`FK_READ_ONLY`); reads go on from what was delivered.
 */
export interface ConnectionStatus {
  readonly online: boolean;
  /** `connect()` just resolved: online until the transport says otherwise. */
  connected(): void;
  /** Stops listening to the transport's status. */
  stop(): void;
}

/** Listens to `transport`'s status from now on (offline until it says otherwise) and logs each change. */
export function trackConnection(transport: Transport, log: Logger): ConnectionStatus {
  let online = false;
  const off = transport.onStatus((s) => {
    online = s.kind === 'online';
    log.info({ status: s.kind }, 'transport status');
  });
  return {
    get online() {
      return online;
    },
    connected() {
      online = true;
    },
    stop() {
      off();
    },
  };
}
