import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileTransport } from '../../../src/transports/file';
import { collector, describeTransportContract } from '../../contract/transport.contract';
import { eventually } from '../../support/hang';

/** The module object the transport calls into (a namespace import's bindings cannot be spied on). */
const fs = require('node:fs') as typeof import('node:fs');
const realStatSync = fs.statSync;

const dirs: string[] = [];
const tempFile = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fk-file-'));
  dirs.push(d);
  return join(d, 'flowkeeper-data.txt');
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describeTransportContract('file', async () => {
  const path = tempFile();
  return [
    createFileTransport({ path, pollMs: 20, exclusiveAppend: false }),
    createFileTransport({ path, pollMs: 20, exclusiveAppend: false }),
  ];
});

describe('file transport', () => {
  it('appends after an unterminated last line without joining the two', async () => {
    const path = tempFile();
    writeFileSync(path, 'first line');
    const t = createFileTransport({ path });
    await t.connect();
    const c = collector();
    await t.subscribe(null, c);
    await c.waitCaughtUp();
    await t.publish('second line', { id: 'x', seq: 2 });
    await c.waitFor(2);
    expect(readFileSync(path, 'utf8')).toBe('first line\nsecond line\n');
    await t.close();
  });

  it('notices lines appended by another process and delivers them', async () => {
    const path = tempFile();
    const t = createFileTransport({ path, pollMs: 20 });
    await t.connect();
    const c = collector();
    await t.subscribe(null, c);
    await c.waitCaughtUp();
    appendFileSync(path, 'from the desktop app\r\nand another\n');
    const got = await c.waitFor(2);
    expect(got.map((e) => e.line)).toEqual(['from the desktop app', 'and another']);
    await t.close();
  });

  it('refuses to append over lines it has not read yet, and delivers them first', async () => {
    const path = tempFile();
    const t = createFileTransport({ path, pollMs: 60_000 });
    await t.connect();
    const c = collector();
    await t.subscribe(null, c);
    await c.waitCaughtUp();
    appendFileSync(path, 'someone else\n');
    await expect(t.publish('mine', { id: 'm', seq: 1 })).rejects.toMatchObject({ code: 'FK_SEQUENCE_CONFLICT' });
    expect(c.entries.map((e) => e.line)).toEqual(['someone else']);
    await t.publish('mine', { id: 'm', seq: 2 });
    expect(readFileSync(path, 'utf8')).toBe('someone else\nmine\n');
    await t.close();
  });

  it('without following, neither watches nor polls, and still delivers the file, its own lines and a conflict', async () => {
    const path = tempFile();
    writeFileSync(path, 'first\n');
    const watch = jest.spyOn(fs, 'watch');
    const interval = jest.spyOn(global, 'setInterval');
    try {
      const t = createFileTransport({ path, follow: false });
      await t.connect();
      const c = collector();
      await t.subscribe(null, c);
      await c.waitCaughtUp();
      await t.publish('mine', { id: 'm', seq: 2 });
      appendFileSync(path, 'someone else\n');
      await expect(t.publish('late', { id: 'l', seq: 3 })).rejects.toMatchObject({ code: 'FK_SEQUENCE_CONFLICT' });
      expect(c.entries.map((e) => e.line)).toEqual(['first', 'mine', 'someone else']);
      expect(watch).not.toHaveBeenCalled();
      expect(interval).not.toHaveBeenCalled();
      await t.close();
    } finally {
      watch.mockRestore();
      interval.mockRestore();
    }
  });

  it('rejects a line with a line break, leaving the file untouched', async () => {
    const path = tempFile();
    writeFileSync(path, 'keep\n');
    const t = createFileTransport({ path });
    await t.connect();
    await expect(t.publish('a\nb', { id: 'x', seq: 1 })).rejects.toMatchObject({ code: 'FK_TRANSPORT_UNAVAILABLE' });
    expect(readFileSync(path, 'utf8')).toBe('keep\n');
    await t.close();
  });
});

describe('file transport when the history is rewritten under it', () => {
  it('reports offline once, with the reason, instead of reading from a wrong offset', async () => {
    const path = tempFile();
    writeFileSync(path, 'one\ntwo\nthree\n');
    const t = createFileTransport({ path, pollMs: 20 });
    const statuses: string[] = [];
    t.onStatus((s) => statuses.push(s.kind === 'offline' ? `offline: ${s.reason}` : s.kind));
    await t.connect();
    const c = collector();
    await t.subscribe(null, c);
    await c.waitFor(3);
    // Count the transport's looks at the file (each poll or file event stats it): "once" means
    // after several more looks, not after some sleep.
    let looks = 0;
    const stat = jest.spyOn(fs, 'statSync').mockImplementation((...args: Parameters<typeof fs.statSync>) => {
      if (args[0] === path) looks++;
      return realStatSync(...args);
    });
    writeFileSync(path, 'x\n');
    try {
      await eventually(() => statuses.some((s) => s.startsWith('offline')), 'the offline report');
      const seen = looks;
      await eventually(() => looks >= seen + 5, 'five more looks at the file');
    } finally {
      stat.mockRestore();
    }
    const offline = statuses.filter((s) => s.startsWith('offline'));
    expect(offline).toHaveLength(1);
    expect(offline[0]).toMatch(/shrank .* it was rewritten/);
    expect(c.entries.map((e) => e.line)).toEqual(['one', 'two', 'three']);
    await t.close();
  });
});
