import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReplicaCache } from '../../../src/app/replicaCache';
import { createReplicaSnapshotStore } from '../../../src/app/snapshotStore';
import { fixedClock } from '../../../src/core/clock';
import { createClient, type Client } from '../../../src/core/client';
import { createFernetCipher } from '../../../src/core/crypto';
import type { SnapshotStore } from '../../../src/core/snapshots';
import { createMemoryHub, createMemoryTransport, type MemoryHub } from '../../../src/transports/memory';
import { generateHistory } from '../../support/generate';
import { sameGraph } from '../../support/sameGraph';
import { isModelObject } from '../../../src/core/engine/modelCodec';
import { modelSegments } from '../../../src/core/engine/modelSegments';

const NOW = Date.UTC(2030, 0, 1) * 1000;
const USER = 'user@local.host';

describe('broker state snapshots (anchored in the replica)', () => {
  let dir: string;
  let hub: MemoryHub;
  const clients: Client[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fk-rsnap-'));
    hub = createMemoryHub();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const publish = async (lines: readonly string[], first = 1): Promise<void> => {
    const t = createMemoryTransport(hub);
    await t.connect();
    for (const [i, line] of lines.entries()) await t.publish(line, { id: `p${first + i}`, seq: first + i });
    await t.close();
  };
  const tracked = (inner: SnapshotStore): SnapshotStore & { used: boolean | null } => {
    const s = {
      used: null as boolean | null,
      load: async (...args: Parameters<SnapshotStore['load']>) => {
        const r = await inner.load(...args);
        s.used = r !== null;
        return r;
      },
      save: inner.save,
    };
    return s;
  };
  let ids = 0;
  const start = async (
    opts: { cache?: boolean; snapshots?: SnapshotStore; firstId?: number } = {},
  ): Promise<Client> => {
    let n = opts.firstId ?? 0;
    const c = createClient({
      transport: createMemoryTransport(hub),
      user: USER,
      sequencing: 'race',
      clock: fixedClock(NOW),
      newId: () => {
        ids = ++n;
        return `id-${n}`;
      },
      ...(opts.cache ? { cache: createReplicaCache(join(dir, 'replicas'), 'k') } : {}),
      ...(opts.snapshots ? { snapshots: opts.snapshots } : {}),
    });
    clients.push(c);
    await c.start();
    return c;
  };
  const stop = async (c: Client): Promise<void> => {
    clients.splice(clients.indexOf(c), 1);
    await c.close();
  };
  const store = (
    extra: Partial<Parameters<typeof createReplicaSnapshotStore>[0]> = {},
  ): SnapshotStore & { used: boolean | null } =>
    tracked(createReplicaSnapshotStore({ dir: join(dir, 'snapshots'), key: 'k', minLines: 0, ...extra }));

  it('snapshot of the replica + what is newer is exactly the full replay', async () => {
    const all = generateHistory(3000, 13);
    await publish(all.slice(0, 2000));
    await stop(await start({ cache: true })); // fills the replica
    const taking = store();
    const second = await start({ cache: true, snapshots: taking }); // takes the snapshot of the replica
    const taken = ids;
    expect(taking.used).toBe(false);
    expect(readdirSync(join(dir, 'snapshots'))).toHaveLength(1);
    await stop(second);

    await publish(all.slice(2000), 2001);
    const using = store();
    const resumed = await start({ cache: true, snapshots: using, firstId: taken });
    expect(using.used).toBe(true);
    const full = await start();
    expect(resumed.state.lastSeq).toBe(3000);
    modelSegments(resumed.state, isModelObject); // reads all of what was restored on demand
    expect(sameGraph(resumed.state, full.state)).toBe('same');
  });

  it('is not used when the replica was rebuilt with other entries, nor with another key', async () => {
    await publish(generateHistory(1500, 3));
    await stop(await start({ cache: true }));
    const keyA = createFernetCipher(new Uint8Array(randomBytes(32)));
    const keyB = createFernetCipher(new Uint8Array(randomBytes(32)));
    await stop(await start({ cache: true, snapshots: store({ cipher: keyA }) }));
    for (const [cipher, used] of [
      [keyB, false],
      [undefined, false],
      [keyA, true],
    ] as const) {
      const s = store(cipher ? { cipher, minLines: 1e9 } : { minLines: 1e9 });
      await stop(await start({ cache: true, snapshots: s }));
      expect(s.used).toBe(used);
      if (!used) await stop(await start({ cache: true, snapshots: store({ cipher: keyA }) })); // taken again
    }
    // another log in the same replica slot: the snapshot no longer matches it
    rmSync(join(dir, 'replicas'), { recursive: true, force: true });
    hub = createMemoryHub();
    await publish(generateHistory(1500, 4));
    await stop(await start({ cache: true }));
    const s = store();
    const c = await start({ cache: true, snapshots: s });
    expect(s.used).toBe(false);
    const full = await start();
    modelSegments(c.state, isModelObject);
    expect(sameGraph(c.state, full.state)).toBe('same');
  });
});
