import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileSnapshotStore } from '../../../src/app/snapshotStore';
import { fixedClock } from '../../../src/core/clock';
import { createClient, type Client } from '../../../src/core/client';
import { encodeHistoryState } from '../../../src/core/engine/modelCodec';
import { SnapshotReadError } from '../../../src/core/engine/lazyRefs';
import { cloneTenant } from '../../../src/core/engine/cloneTenant';
import type { StrategyRecord } from '../../../src/core/engine/records';
import { executeRecord } from '../../../src/core/engine/replay';
import { parseLine } from '../../../src/core/engine/serializer';
import { FkError } from '../../../src/core/errors';
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
  const store = (stampMinAgeMs?: number): SnapshotStore & { used: boolean | null } => {
    const inner = createFileSnapshotStore({
      dir: snapDir,
      path: history,
      user: USER,
      minLines: 0,
      ...(stampMinAgeMs === undefined ? {} : { stampMinAgeMs }),
    });
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
    encodeHistoryState(c.state as never, (l) => out.push(l), { fresh: true });
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
    expect(encoded(resumed)).toEqual(encoded(full)); // (reads all of it)
    expect(sameGraph(resumed.state, full.state)).toBe('same');
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

  describe('read on demand', () => {
    /** A history with a snapshot, and a store that restored its header only. */
    const restored = async (): Promise<{ state: Client['state']; file: string }> => {
      write(generateHistory(3000, 6));
      await start(store());
      const file = join(snapDir, readdirSync(snapDir).find((f) => f.endsWith('.snap')) as string);
      const snap = await createFileSnapshotStore({ dir: snapDir, path: history, user: USER, minLines: 0 }).load();
      expect(snap).not.toBeNull();
      return { state: snap?.state as Client['state'], file };
    };
    const encodedState = (state: Client['state']): string[] => {
      const out: string[] = [];
      encodeHistoryState(state as never, (l) => out.push(l), { fresh: true });
      return out;
    };

    it('a snapshot replaced after its header was read: the model reads on from the file it restored', async () => {
      const { state, file } = await restored();
      const before = readFileSync(file);
      // another process writes a new snapshot (of another history) and renames it over this one
      writeFileSync(`${file}.new`, readFileSync(file, 'utf8').replace(/Day /g, 'Yay '));
      renameSync(`${file}.new`, file);
      const full = await start();
      expect(encodedState(state)).toEqual(encoded(full)); // (reads all of it)
      expect(sameGraph(state, full.state)).toBe('same');
      expect(readFileSync(file)).not.toEqual(before);
    });

    it('a snapshot changed in place after its header was read: reading on fails, and it is deleted', async () => {
      const { state, file } = await restored();
      truncateSync(file, statSync(file).size - 100);
      const user = state.tenant.users.get(USER);
      expect(() => user?.backlogs.values()).toThrow(SnapshotReadError);
      expect(() => user?.backlogs.values()).toThrow(/changed while in use/);
      expect(readdirSync(snapDir).filter((f) => f.endsWith('.snap'))).toEqual([]);
    });
  });

  it('a restored client checks actions against a fork of its snapshot: the verdicts of a clone of its model', async () => {
    const all = generateHistory(3300, 12);
    write(all.slice(0, 2500));
    await start(store());
    const taken = ids;
    appendFileSync(history, `${all.slice(2500, 3000).join('\n')}\n`); // followed since the snapshot
    // 1000 new lines before it saves: this client's model stays as lazily restored as it was
    const s = createFileSnapshotStore({ dir: snapDir, path: history, user: USER, minLines: 1000 });
    const c = await start(s, taken);
    const records = all.map((l, i) => parseLine(l, i + 1)).flatMap((p) => (p.kind === 'record' ? [p.record] : []));
    let rejected = 0;
    for (const [i, r] of records.slice(3000).entries()) {
      // now and then an old action once more (invalid by now, mostly)
      const candidates = i % 7 === 3 ? [records[(i * 389) % 3000] as StrategyRecord, r] : [r];
      for (const x of candidates) {
        const scratch = { ...c.state, tenant: cloneTenant(c.state.tenant), skipped: [] };
        let expected = 'ok';
        try {
          executeRecord(scratch, { ...x, seq: c.state.lastSeq + 1, when: NOW }, { now: NOW });
        } catch (err) {
          expected = err instanceof FkError ? err.code : String(err);
        }
        const actual = await c.execute(x.name, x.params, { user: x.user }).then(
          () => 'ok',
          (err: unknown) => (err instanceof FkError ? err.code : String(err)),
        );
        expect(`${i} ${x.name}: ${actual}`).toBe(`${i} ${x.name}: ${expected}`);
        if (actual !== 'ok') rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(5);
    // the same model as a full replay of what it wrote, but for the ids of the pomodoros and
    // interruptions its actions created (each check also takes an id from the test's counter)
    const full = await start();
    // (and so for the byte counts of the segment table and trailer, its last three lines)
    const anyIds = (lines: string[]): string[] => lines.slice(0, -3).map((l) => l.replace(/id-\d+/g, 'id'));
    expect(anyIds(encoded(c))).toEqual(anyIds(encoded(full)));
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

  describe('unchanged-file fast path (stamp)', () => {
    const AGE = 20;
    /** Waits (a condition, not a sleep) until the history's last change is older than AGE. */
    const aged = async (): Promise<void> => {
      while (Date.now() - statSync(history).ctimeMs <= AGE + 5) await new Promise((r) => setTimeout(r, 5));
    };
    const snapFile = (): string => join(snapDir, readdirSync(snapDir).find((f) => f.endsWith('.snap')) as string);
    const stampFile = (): string => `${snapFile()}.stamp`;
    /** A history with a snapshot and a stamp vouching for it. */
    const stamped = async (lines: readonly string[]): Promise<void> => {
      write(lines);
      await start(store(AGE));
      await aged();
      const s = store(AGE);
      await start(s);
      expect(s.used).toBe(true);
      const stamp = JSON.parse(readFileSync(stampFile(), 'utf8')) as { identity: string };
      const st = statSync(history, { bigint: true });
      expect(stamp.identity).toBe(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`);
    };
    /** Meta and stamp both claim another hash: only a load that skips hashing can accept that. */
    const forgeHash = (): void => {
      const forged = 'f'.repeat(64);
      const [meta, ...body] = readFileSync(snapFile(), 'utf8').split('\n');
      const m = JSON.parse(meta as string) as { sha256: string };
      writeFileSync(snapFile(), [JSON.stringify({ ...m, sha256: forged }), ...body].join('\n'));
      const stamp = JSON.parse(readFileSync(stampFile(), 'utf8')) as { sha256: string };
      writeFileSync(stampFile(), JSON.stringify({ ...stamp, sha256: forged }));
    };
    const expectReplayedInFull = async (): Promise<void> => {
      const s = store(AGE);
      const c = await start(s);
      expect(s.used).toBe(false);
      const full = await start();
      expect(sameGraph(c.state, full.state)).toBe('same');
    };

    it('an unchanged file is trusted by its stamp, without hashing', async () => {
      await stamped(generateHistory(1500, 21));
      forgeHash();
      const s = store(AGE);
      await start(s);
      expect(s.used).toBe(true);
    });

    it('no stamp while the file is too recently changed to vouch for', async () => {
      write(generateHistory(1500, 22));
      await start(store(60_000));
      const s = store(60_000);
      await start(s);
      expect(s.used).toBe(true);
      expect(readdirSync(snapDir).filter((f) => f.endsWith('.stamp'))).toEqual([]);
    });

    it('an edit in place (same size, same inode) is never trusted', async () => {
      const lines = generateHistory(1500, 23);
      await stamped(lines);
      const ino = statSync(history).ino;
      const size = statSync(history).size;
      const line3 = Buffer.byteLength(`${lines.slice(0, 2).join('\n')}\n`);
      const at = line3 + (lines[2] as string).lastIndexOf('"') - 1;
      const fd = openSync(history, 'r+');
      writeSync(fd, readFileSync(history).subarray(at, at + 1).toString() === 'x' ? 'y' : 'x', at);
      closeSync(fd);
      expect([statSync(history).ino, statSync(history).size]).toEqual([ino, size]);
      await expectReplayedInFull();
    });

    it('another file renamed over the history (same size) is never trusted', async () => {
      const lines = generateHistory(1500, 24);
      await stamped(lines);
      const other = [...lines];
      other[1] = (other[1] as string).replace(/.$/, (ch) => (ch === 'x' ? 'y' : 'x'));
      const tmp = join(dir, 'other.txt');
      writeFileSync(tmp, `${other.join('\n')}\n`);
      expect(statSync(tmp).size).toBe(statSync(history).size);
      renameSync(tmp, history);
      await expectReplayedInFull();
    });

    it('a truncated history is never trusted, even grown back to its size', async () => {
      const lines = generateHistory(1500, 25);
      await stamped(lines);
      const size = statSync(history).size;
      truncateSync(history, 100);
      await expectReplayedInFull();
      await stamped(lines);
      truncateSync(history, size - 1);
      appendFileSync(history, 'x');
      expect(statSync(history).size).toBe(size);
      await expectReplayedInFull();
    });

    it('an appended-to file is hashed again (its identity vouches for nothing)', async () => {
      const lines = generateHistory(1600, 26);
      await stamped(lines.slice(0, 1500));
      forgeHash();
      appendFileSync(history, `${lines.slice(1500).join('\n')}\n`);
      // the forged hash no longer matches what a real hash finds: rejected, so it was hashed
      await expectReplayedInFull();
    });
  });
});
