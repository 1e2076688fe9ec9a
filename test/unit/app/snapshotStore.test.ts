import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileSnapshotStore } from '../../../src/app/snapshotStore';
import { fixedClock } from '../../../src/core/clock';
import { createClient, type Client } from '../../../src/core/client';
import { encodeHistoryState } from '../../../src/core/engine/modelCodec';
import type { SnapshotStore } from '../../../src/core/snapshots';
import { createFileTransport } from '../../../src/transports/file';
import { generateHistory } from '../../support/generate';
import { sameGraph } from '../../support/sameGraph';

const NOW = Date.UTC(2030, 0, 1) * 1000;
const USER = 'user@local.host';

describe('file state snapshots', () => {
  let dir: string;
  let history: string;
  let snapDir: string;
  const clients: Client[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fk-snap-'));
    history = join(dir, 'history.txt');
    snapDir = join(dir, 'cache', 'snapshots');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** The store, recording whether its last load returned a snapshot. */
  const store = (): SnapshotStore & { used: boolean | null } => {
    const inner = createFileSnapshotStore({ dir: snapDir, path: history, user: USER, minLines: 0 });
    const s = {
      used: null as boolean | null,
      load: async () => {
        const r = await inner.load();
        s.used = r !== null;
        return r;
      },
      save: inner.save,
    };
    return s;
  };
  /**
   * Ids of objects Flowkeeper never persists come from the client (random in real use): counted
   * here, from `firstId`, so that a client resumed from a snapshot can continue the numbering of
   * the client that took it, and be compared with one that replayed everything.
   */
  let ids = 0;
  const start = async (snapshots?: SnapshotStore, firstId = 0): Promise<Client> => {
    let n = firstId;
    const c = createClient({
      transport: createFileTransport({ path: history }),
      user: USER,
      sequencing: 'strict',
      clock: fixedClock(NOW),
      newId: () => {
        ids = ++n;
        return `id-${n}`;
      },
      ...(snapshots ? { snapshots } : {}),
    });
    clients.push(c);
    await c.start();
    return c;
  };
  const encoded = (c: Client): string[] => {
    const out: string[] = [];
    encodeHistoryState(c.state as never, (l) => out.push(l));
    return out;
  };
  const write = (lines: readonly string[]): void => writeFileSync(history, `${lines.join('\n')}\n`);

  it('snapshot + the appended tail is exactly the full replay', async () => {
    const all = generateHistory(4000, 11);
    write(all.slice(0, 3000));
    const first = store();
    await start(first);
    const taken = ids;
    expect(first.used).toBe(false);
    expect(readdirSync(snapDir)).toHaveLength(1);

    appendFileSync(history, `${all.slice(3000).join('\n')}\n`);
    const second = store();
    const resumed = await start(second, taken);
    expect(second.used).toBe(true);
    const full = await start();
    expect(resumed.state.lastSeq).toBe(4000);
    expect(sameGraph(resumed.state, full.state)).toBe('same');
    expect(encoded(resumed)).toEqual(encoded(full));
  });

  it('is ignored, deleted and rebuilt when an early line was edited', async () => {
    const lines = generateHistory(2000, 5);
    write(lines);
    await start(store());
    const snapshot = join(snapDir, readdirSync(snapDir)[0] as string);
    // same length, one character of a name in line 3: only the hash can tell
    const edited = [...lines];
    const at = (edited[2] as string).lastIndexOf('"') - 1;
    edited[2] = `${(edited[2] as string).slice(0, at)}${(edited[2] as string)[at] === 'x' ? 'y' : 'x'}${(edited[2] as string).slice(at + 1)}`;
    write(edited);
    expect(statSync(history).size).toBe(Buffer.byteLength(`${lines.join('\n')}\n`));
    const s = store();
    const c = await start(s);
    expect(s.used).toBe(false);
    const full = await start();
    expect(sameGraph(c.state, full.state)).toBe('same');
    expect([...(c.state.tenant.users.get(USER)?.workitems.values() ?? [])].length).toBeGreaterThan(0);
    // rebuilt from the edited file, not the old one
    expect(readFileSync(snapshot, 'utf8')).not.toEqual('');
    const again = store();
    await start(again);
    expect(again.used).toBe(true);
  });

  it('is ignored when the history is shorter than what it covers', async () => {
    const lines = generateHistory(1500, 2);
    write(lines);
    await start(store());
    write(lines.slice(0, 1000));
    const s = store();
    const c = await start(s);
    expect(s.used).toBe(false);
    expect(c.state.lastSeq).toBe(1000);
  });

  it('is a private cache file: 0600 in a 0700 folder', async () => {
    write(generateHistory(300, 4));
    await start(store());
    expect(statSync(snapDir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(snapDir)) expect(statSync(join(snapDir, f)).mode & 0o777).toBe(0o600);
  });

  it('does not write a snapshot below its threshold of new lines', async () => {
    write(generateHistory(300, 4));
    const s = createFileSnapshotStore({ dir: snapDir, path: history, user: USER, minLines: 1000 });
    await start(s);
    expect(() => readdirSync(snapDir)).toThrow();
  });

  it('is not written when the history changed after it was read (what it would hash is not what was replayed)', async () => {
    const lines = generateHistory(1200, 9);
    write(lines.slice(0, 1000));
    const inner = createFileSnapshotStore({ dir: snapDir, path: history, user: USER, minLines: 0 });
    const racing: SnapshotStore = {
      load: inner.load,
      save: async (state, position, fresh) => {
        appendFileSync(history, `${lines.slice(1000).join('\n')}\n`); // another writer, just before the save
        await inner.save(state, position, fresh);
      },
    };
    await start(racing);
    expect(() => readdirSync(snapDir)).toThrow();
  });
});
