import { appendFileSync, closeSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StrategyRecord } from '../../../src/core/engine/records';
import { createFileFollower, openDesktopFile, type FileFollower } from '../../../src/mirror/fileFollower';
import { createMatcher, type FileRecord } from '../../../src/mirror/matcher';
import { openPositionStore } from '../../../src/mirror/position';
import { desktopLine } from '../../support/desktopWriter';

const USER = 'alice@example.org';
const T = Date.parse('2026-06-10T10:00:00Z');
const lines = [
  desktopLine(1, T, 'admin@local.host', 'CreateUser', [USER, 'Alice']),
  desktopLine(2, T + 1000, USER, 'CreateBacklog', ['b1', 'Today']),
  desktopLine(3, T + 2000, USER, 'CreateWorkitem', ['w1', 'b1', 'Write "the" report']),
  desktopLine(4, T + 3000, USER, 'AddPomodoro', ['w1', '2']),
];

let dir: string;
let file: string;
const followers: FileFollower[] = [];
const fds: number[] = [];
/** The desktop file opened the way the mirror opens it (closed after the test). */
function opened(): number {
  const fd = openDesktopFile(file);
  fds.push(fd);
  return fd;
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fk-mirror-'));
  file = join(dir, 'flowkeeper-data.txt');
});
afterEach(() => {
  for (const f of followers.splice(0)) f.close();
  for (const fd of fds.splice(0)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

function follow(): FileFollower {
  const f = createFileFollower({ path: file, fd: opened(), onChange: () => undefined, pollMs: 60_000 });
  followers.push(f);
  return f;
}
function readAll(f: FileFollower, limit = 100): { records: FileRecord[]; atEnd: boolean } {
  const records: FileRecord[] = [];
  const { atEnd } = f.read(limit, (r) => records.push(r));
  return { records, atEnd };
}

describe('the file follower', () => {
  it('reads complete lines only: a line the desktop app is still writing waits for its newline', () => {
    writeFileSync(file, `${lines[0]}\n${lines[1]}\n${(lines[2] as string).slice(0, 20)}`);
    const f = follow();
    const first = readAll(f);
    expect(first.records.map((r) => [r.ordinal, r.record.seq, r.line])).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(first.records[1]?.plain).toBe(lines[1]);
    appendFileSync(file, `${(lines[2] as string).slice(20)}\n\n${lines[3]}\n`);
    const second = readAll(f);
    expect(second.records.map((r) => [r.ordinal, r.record.name, r.line])).toEqual([
      [3, 'CreateWorkitem', 3],
      [4, 'AddPomodoro', 5],
    ]);
    expect(second.records[0]?.record.params).toEqual(['w1', 'b1', 'Write "the" report']);
    expect(second.atEnd).toBe(true);
  });

  it('reads at most the records asked for', () => {
    writeFileSync(file, `${lines.join('\n')}\n`);
    const f = follow();
    expect(readAll(f, 3)).toMatchObject({ atEnd: false, records: [{ ordinal: 1 }, { ordinal: 2 }, { ordinal: 3 }] });
    expect(readAll(f, 3)).toMatchObject({ atEnd: true, records: [{ ordinal: 4 }] });
  });

  it("refuses a line Flowkeeper's file rule refuses (a gap): a broker history cannot hold it", () => {
    writeFileSync(file, `${lines[0]}\n${desktopLine(3, T, USER, 'CreateBacklog', ['b1', 'x'])}\n`);
    const f = follow();
    expect(() => readAll(f)).toThrow(/cannot be copied: line 2: sequence 3 after 1, expected 2/);
  });

  it('notices a desktop repair (the file renamed, a new one written) and a file rewritten in place', () => {
    writeFileSync(file, `${lines.join('\n')}\n`);
    const f = follow();
    readAll(f);
    renameSync(file, `${file}-backup-1`);
    writeFileSync(file, `${lines.join('\n')}\n${desktopLine(5, T, USER, 'RenameBacklog', ['b1', 'x'])}\n`);
    const diverged = (m: RegExp) =>
      expect.objectContaining({ code: 'FK_HISTORY_DIVERGED', message: expect.stringMatching(m) });
    expect(() => readAll(f)).toThrow(diverged(/replaced by another file since it was read/));

    const g = follow();
    readAll(g);
    const edited = [...lines, desktopLine(5, T, USER, 'RenameBacklog', ['b1', 'y'])];
    writeFileSync(file, `${edited.join('\n')}\n`); // same inode, last line read changed
    expect(() => readAll(g)).toThrow(diverged(/changed at byte/));
  });

  it('notices a repair caught between its rename and its write: the file read is no longer at its path', () => {
    writeFileSync(file, `${lines.join('\n')}\n`);
    const f = follow();
    readAll(f);
    renameSync(file, `${file}-backup-1`);
    expect(() => readAll(f)).toThrow(
      expect.objectContaining({
        code: 'FK_HISTORY_DIVERGED',
        message: expect.stringMatching(/was replaced by another file or removed since it was read/),
      }),
    );
  });
});

describe('the matcher', () => {
  const rec = (
    seq: number,
    name: StrategyRecord['name'] = 'CreateBacklog',
    params: string[] = [`b${seq}`, 'x'],
  ): StrategyRecord => ({
    seq,
    when: 1_000_000 * seq,
    user: USER,
    name,
    params,
  });
  const fileRec = (ordinal: number, r: StrategyRecord): FileRecord => ({
    ordinal,
    record: r,
    plain: '',
    line: ordinal,
    end: ordinal * 10,
  });
  const where = { file: 'f.txt', broker: 'amqp://h/' };

  it('pairs the two histories place by place, in whichever order their records come', () => {
    const m = createMatcher(where);
    m.brokerApplied(rec(1));
    m.brokerApplied(rec(2));
    m.fileRead(fileRec(1, rec(1)));
    expect([m.matched, m.brokerPending, m.filePending, m.matchedEnd]).toEqual([1, 1, 0, 10]);
    m.fileRead(fileRec(2, rec(2)));
    m.fileRead(fileRec(3, rec(3)));
    expect([m.matched, m.brokerPending, m.filePending]).toEqual([2, 0, 1]);
    expect(m.fileRecord(3)?.record.seq).toBe(3);
    expect(m.fileRecord(4)).toBeUndefined();
    m.fileAtEnd();
    expect(m.error).toBeNull();
  });

  it('stops at a different record at the same place', () => {
    const m = createMatcher(where);
    m.fileRead(fileRec(1, rec(1)));
    m.brokerApplied(rec(1, 'CreateBacklog', ['b1', 'other name']));
    expect(m.error?.code).toBe('FK_HISTORY_DIVERGED');
    expect(m.error?.message).toMatch(
      /record 1 of the file \(line 1: seq 1, CreateBacklog\) is not record 1 of the broker history/,
    );
    expect(m.matched).toBe(0);
  });

  it('stops at a broker record the whole file does not have, not before the file was read to its end', () => {
    const m = createMatcher(where);
    m.brokerApplied(rec(1));
    m.brokerApplied(rec(2));
    m.fileRead(fileRec(1, rec(1)));
    expect(m.error).toBeNull();
    m.fileAtEnd();
    expect(m.error?.message).toMatch(/the broker history has 2 records and the file only 1/);
  });
});

describe('the position store', () => {
  it('keeps the position and tells a file rewritten since', () => {
    writeFileSync(file, `${lines.join('\n')}\n`);
    const key = { dir: join(dir, 'state'), key: 'k', file, describe: 'test' };
    const a = openPositionStore({ ...key, fd: opened() });
    expect(a.saved).toBeNull();
    a.verify();
    const end = Buffer.byteLength(`${lines.slice(0, 2).join('\n')}\n`);
    a.save(2, end);
    expect(() => openPositionStore({ ...key, fd: opened() })).toThrow(/another fk mirror already copies test/);
    a.close();

    const b = openPositionStore({ ...key, fd: opened() });
    expect(b.saved).toMatchObject({ records: 2, offset: end });
    b.verify();
    b.close();

    writeFileSync(file, `${lines[0]}\n${desktopLine(2, T, USER, 'CreateBacklog', ['b9', 'Other'])}\n`);
    const c = openPositionStore({ ...key, fd: opened() });
    const rewritten = {
      code: 'FK_HISTORY_DIVERGED',
      message: expect.stringMatching(/was rewritten since 2 of its records were copied/),
    };
    expect(() => c.verify()).toThrow(expect.objectContaining(rewritten));
    c.close();
  });

  it('hashes the file the mirror reads, even once a repair put another file at its path', () => {
    writeFileSync(file, `${lines.join('\n')}\n`);
    const key = { dir: join(dir, 'state'), key: 'k', file, describe: 'test' };
    const a = openPositionStore({ ...key, fd: opened() });
    a.verify();
    renameSync(file, `${file}-backup-1`);
    writeFileSync(file, `${lines[0]}\n${desktopLine(2, T, USER, 'CreateBacklog', ['b9', 'Other'])}\n`);
    const end = Buffer.byteLength(`${lines.slice(0, 2).join('\n')}\n`);
    a.save(2, end);
    a.close();
    renameSync(`${file}-backup-1`, file); // the copied history back at its path: its position holds
    const b = openPositionStore({ ...key, fd: opened() });
    expect(b.saved).toMatchObject({ records: 2, offset: end });
    b.verify();
    b.close();
  });
});
