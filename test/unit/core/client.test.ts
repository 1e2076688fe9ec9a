import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '../../../src/core/client';
import { canonicalState } from '../../../src/core/engine/canonical';
import { manualClock } from '../../../src/core/clock';
import { createFernetCipher } from '../../../src/core/crypto';
import { replay } from '../../../src/core/engine/replay';
import { splitLines } from '../../../src/core/engine/serializer';
import { parseInstant } from '../../../src/core/engine/time';
import { createFileTransport } from '../../../src/transports/file';
import { createMemoryHub, createMemoryTransport } from '../../../src/transports/memory';
import { eventually } from '../../support/hang';

const USER = 'alice@example.org';
const T0 = parseInstant('2026-06-10T09:00:00Z')!;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempFile = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'fk-client-'));
  dirs.push(d);
  return join(d, 'flowkeeper-data.txt');
};

async function memoryPair(): Promise<[Client, Client]> {
  const hub = createMemoryHub();
  const clock = manualClock(T0);
  const mk = (): Client =>
    createClient({ transport: createMemoryTransport(hub), user: USER, clock, sequencing: 'race' });
  const a = mk();
  const b = mk();
  await a.start();
  await b.start();
  return [a, b];
}

describe('client over a shared log', () => {
  it('two writers racing 500 appends each converge to identical state, every accepted action exactly once', async () => {
    const [a, b] = await memoryPair();
    await a.execute('CreateUser', [USER, 'Alice'], { user: 'admin@local.host' });
    await a.execute('CreateBacklog', ['b1', 'Race']);
    const write = (c: Client, tag: string) =>
      Promise.all(
        Array.from({ length: 500 }, (_, i) => c.execute('CreateWorkitem', [`${tag}-${i}`, 'b1', `${tag} ${i}`])),
      );
    await Promise.all([write(a, 'A'), write(b, 'B')]);
    await eventually(() => a.state.lastSeq === 1002 && b.state.lastSeq === 1002, 'both writers at seq 1002');
    const items = (c: Client) =>
      c.state.tenant.users
        .get(USER)!
        .backlogs.get('b1')!
        .workitems.values()
        .map((w) => w.uid);
    expect(items(a)).toEqual(items(b));
    expect(new Set(items(a)).size).toBe(1000);
    expect(a.state.lastSeq).toBe(1002);
    expect(JSON.stringify(canonicalState(a.state, 'strict', T0))).toBe(
      JSON.stringify(canonicalState(b.state, 'strict', T0)),
    );
    await a.close();
    await b.close();
  });

  it('rejects an action that breaks a rule without publishing anything', async () => {
    const hub = createMemoryHub();
    const c = createClient({ transport: createMemoryTransport(hub), user: USER, sequencing: 'race' });
    await c.start();
    await c.execute('CreateUser', [USER, 'Alice'], { user: 'admin@local.host' });
    await expect(c.execute('StartTimer', ['missing', '1500', '300'])).rejects.toMatchObject({ code: 'FK_NOT_FOUND' });
    expect(hub.entries).toHaveLength(1);
    await c.close();
  });

  it('an action that became invalid after losing the race fails with the rule error, not a silent retry', async () => {
    const [a, b] = await memoryPair();
    await a.execute('CreateUser', [USER, 'Alice'], { user: 'admin@local.host' });
    await a.execute('CreateBacklog', ['b1', 'B']);
    await eventually(() => b.state.lastSeq === 2, 'b to follow a');
    const [r1, r2] = await Promise.allSettled([
      a.execute('DeleteBacklog', ['b1', '']),
      b.execute('RenameBacklog', ['b1', 'x']),
    ]);
    expect(r1.status).toBe('fulfilled');
    expect(r2).toMatchObject({ status: 'rejected', reason: { code: 'FK_NOT_FOUND' } });
    await a.close();
    await b.close();
  });

  it('is read-only while the backend is offline', async () => {
    const hub = createMemoryHub();
    const t = createMemoryTransport(hub);
    const c = createClient({ transport: t, user: USER });
    await c.start();
    await t.close();
    await expect(c.execute('CreateUser', [USER, 'A'], { user: 'admin@local.host' })).rejects.toMatchObject({
      code: 'FK_READ_ONLY',
    });
  });

  it('encrypts what it publishes and reads it back; the backend never sees the plaintext', async () => {
    const hub = createMemoryHub();
    const cipher = createFernetCipher(new Uint8Array(32).fill(7));
    const c = createClient({ transport: createMemoryTransport(hub), user: USER, cipher });
    await c.start();
    await c.execute('CreateUser', [USER, 'Alice'], { user: 'admin@local.host' });
    await c.execute('CreateBacklog', ['b1', 'Secret project']);
    expect(hub.entries.every((e) => e.line.startsWith('+'))).toBe(true);
    expect(hub.entries.map((e) => e.line).join('\n')).not.toContain('Secret');
    const reader = createClient({ transport: createMemoryTransport(hub), user: USER, cipher });
    await reader.start();
    expect(reader.state.tenant.users.get(USER)!.backlogs.get('b1')!.name).toBe('Secret project');
    const noKey = createClient({ transport: createMemoryTransport(hub), user: USER });
    await noKey.start();
    expect(noKey.historyError).toMatchObject({ code: 'FK_KEY_INVALID' });
    await Promise.all([c.close(), reader.close(), noKey.close()]);
  });
});

describe('client over a Flowkeeper file', () => {
  it('appends with the next sequence, never rewriting earlier lines, and notices lines of another process', async () => {
    const path = tempFile();
    const original = '1, 2026-06-10 08:00:00+00:00, admin@local.host: CreateUser("alice@example.org", "Alice")\n';
    writeFileSync(path, original);
    const c = createClient({ transport: createFileTransport({ path, pollMs: 20 }), user: USER, sequencing: 'strict' });
    await c.start();
    await c.execute('CreateBacklog', ['b1', 'Mine']);
    // the desktop app appends a line of its own
    appendFileSync(path, '3, 2026-06-10 08:05:00+00:00, alice@example.org: CreateBacklog("b2", "Desktop")\n');
    await eventually(() => c.state.tenant.users.get(USER)!.backlogs.has('b2'), "the desktop app's line");
    await c.execute('RenameBacklog', ['b1', 'Renamed']);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith(original)).toBe(true);
    expect(splitLines(text).map((l) => l.split(',')[0])).toEqual(['1', '2', '3', '4']);
    expect(replay(splitLines(text), { now: T0 }).lastSeq).toBe(4);
    await c.close();
  });

  it('re-checks against lines appended meanwhile before appending its own', async () => {
    const path = tempFile();
    writeFileSync(
      path,
      '1, 2026-06-10 08:00:00+00:00, admin@local.host: CreateUser("alice@example.org", "Alice")\n' +
        '2, 2026-06-10 08:01:00+00:00, alice@example.org: CreateBacklog("b1", "Mine")\n',
    );
    const c = createClient({
      transport: createFileTransport({ path, pollMs: 60_000 }),
      user: USER,
      sequencing: 'strict',
    });
    await c.start();
    appendFileSync(path, '3, 2026-06-10 08:05:00+00:00, alice@example.org: CreateBacklog("b2", "Desktop")\n');
    const r = await c.execute('RenameBacklog', ['b1', 'Renamed by fk']);
    expect(r.seq).toBe(4);
    expect(c.state.tenant.users.get(USER)!.backlogs.get('b1')!.name).toBe('Renamed by fk');
    expect(c.state.tenant.users.get(USER)!.backlogs.get('b2')!.name).toBe('Desktop');
    expect(replay(splitLines(readFileSync(path, 'utf8')), { now: T0 }).lastSeq).toBe(4);
    await c.close();
  });

  it('refuses to append after a history error and leaves the file untouched', async () => {
    const path = tempFile();
    const broken =
      '1, 2026-06-10 08:00:00+00:00, admin@local.host: CreateUser("alice@example.org", "Alice")\n' +
      '3, 2026-06-10 08:01:00+00:00, alice@example.org: CreateBacklog("b1", "Gap")\n';
    writeFileSync(path, broken);
    const told: unknown[] = [];
    const c = createClient({
      transport: createFileTransport({ path }),
      user: USER,
      sequencing: 'strict',
      onHistoryError: (e) => told.push(e),
    });
    await c.start();
    expect(c.historyError).toMatchObject({ code: 'FK_SEQUENCE_CONFLICT', lineNumber: 2, seq: 3 });
    expect(told).toEqual([c.historyError]);
    await expect(c.execute('CreateBacklog', ['b2', 'x'])).rejects.toMatchObject({ code: 'FK_HISTORY_INVALID' });
    expect(readFileSync(path, 'utf8')).toBe(broken);
    await c.close();
  });
});
