import { formatSeedLine } from '../../../src/core/engine/seed';
import { CLOSE, createConnection } from '../../../src/serve/connection';
import { REPLAY_BATCH } from '../../../src/serve/replay';
import { createMemoryTransport } from '../../../src/transports/memory';
import { rawLine } from '../../support/rawProtocol';
import { connectionDeps, fakeSocket, flush, memoryBackend } from '../../support/serveMemory';

const A = 'alice@example.org';
const PW = 'alice-password';
const auth = (email = A, token = `basic|${PW}`, consent = 'true'): string =>
  rawLine(1, 'admin@local.host', 'Authenticate', [email, token, consent]);
const replay = (n: number): string => rawLine(2, 'admin@local.host', 'Replay', [String(n)]);

function setup(limits = {}, backendOpts = {}) {
  const backend = memoryBackend({ [A]: PW }, backendOpts);
  const deps = connectionDeps(backend, limits);
  const open = () => {
    const socket = fakeSocket();
    const conn = createConnection(socket, '10.0.0.1', deps);
    return { socket, conn };
  };
  return { backend, deps, open };
}

async function signedIn(s: ReturnType<typeof setup>, since = 0) {
  const c = s.open();
  c.conn.onFrame(auth());
  c.conn.onFrame(replay(since));
  await flush();
  expect(c.conn.state).toBe('ready');
  return c;
}

describe('serve connection', () => {
  it('a wrong password: one Error carrying the seq after the Replay position (the client shows it), then nothing until the auth timeout closes', async () => {
    const s = setup();
    const { socket, conn } = s.open();
    conn.onFrame(auth(A, 'basic|wrong'));
    conn.onFrame(replay(3));
    conn.onFrame(rawLine(1, 'admin@local.host', 'Ping', ['p']));
    await flush();
    expect(socket.lines()).toEqual([
      expect.stringMatching(/^4, .*: Error\("401", "Wrong password for user alice@example\.org"\)$/),
    ]);
    expect(socket.closed).toBeNull();
    s.deps.timers.fire(s.deps.limits.authTimeoutMs);
    expect(socket.closed).toMatchObject({ code: CLOSE.policy });
    expect(s.backend.logs.size).toBe(0);
  });

  it('without a Replay, the sign-in Error goes out with seq 1 after a while; Google sign-in is refused with the message the client shows', async () => {
    const s = setup();
    const { socket, conn } = s.open();
    conn.onFrame(auth(A, 'google|token'));
    await flush();
    expect(socket.frames).toEqual([]);
    s.deps.timers.fire(2000);
    expect(socket.lines()).toEqual([
      expect.stringMatching(/^1, .*: Error\("401", "Invalid Google auth token for user alice@example\.org: /),
    ]);
  });

  it('a new account without consent: "User consent is required", the socket closes, no history is created', async () => {
    const s = setup();
    const { socket, conn } = s.open();
    conn.onFrame(auth(A, `basic|${PW}`, 'false'));
    conn.onFrame(replay(0));
    await flush();
    expect(socket.lines()).toEqual([expect.stringMatching(/^1, .*: Error\("403", "User consent is required"\)$/)]);
    expect(socket.closed).not.toBeNull();
    expect(s.backend.logs.get(A)?.entries ?? []).toEqual([]);
  });

  it('with consent: the account is seeded with CreateUser by admin, replayed, and ReplayCompleted ends the last frame', async () => {
    const s = setup();
    const { socket } = await signedIn(s);
    expect(socket.frames).toEqual([`${formatSeedLine(A, 'alice', s.deps.clock.now())}\n${socket.lines()[1]}`]);
    expect(socket.lines()[1]).toMatch(/^1, .*, admin@local\.host: ReplayCompleted\("", ""\)$/);
    expect(s.deps.stats.accountsCreated).toBe(1);
  });

  it(`replays in frames of up to ${REPLAY_BATCH} lines from the position asked, ReplayCompleted last`, async () => {
    const s = setup();
    await signedIn(s);
    const t = createMemoryTransport(s.backend.logs.get(A));
    await t.connect();
    for (let seq = 2; seq <= 2500; seq++)
      await t.publish(rawLine(seq, A, 'CreateBacklog', [`b${seq}`, 'x']), { id: `i${seq}`, seq });
    const { socket } = await signedIn(s, 100);
    const sizes = socket.frames.map((f) => f.split('\n').length);
    expect(sizes).toEqual([900, 1000, 501]); // aligned to the hub's cached blocks, ReplayCompleted on the last
    const lines = socket.lines();
    expect(lines[0]).toMatch(/^101, /);
    expect(lines[2399]).toMatch(/^2500, /);
    expect(lines[2400]).toMatch(/ReplayCompleted/);
  });

  it('answers Ping with Pong, refuses a line of another user, a line too long, and a second Authenticate', async () => {
    const s = setup({ maxLineBytes: 200 });
    const { socket, conn } = await signedIn(s);
    const at = socket.lines().length;
    conn.onFrame(rawLine(1, 'admin@local.host', 'Ping', ['u-1']));
    conn.onFrame(rawLine(2, 'bob@example.org', 'CreateBacklog', ['b1', 'x']));
    conn.onFrame(rawLine(2, A, 'CreateBacklog', ['b1', 'x'.repeat(300)]));
    conn.onFrame(auth());
    await flush();
    expect(socket.lines().slice(at)).toEqual([
      expect.stringMatching(/^1, .*: Pong\("u-1", ""\)$/),
      expect.stringMatching(
        /^2, .*: Error\("403", "Refused: a record of user bob@example\.org on the account of alice@example\.org"\)$/,
      ),
      expect.stringMatching(/^1, .*: Error\("413", "Line too long: at most 200 bytes"\)$/),
      expect.stringMatching(/^1, .*: Error\("400", "Refused: already authenticated"\)$/),
    ]);
    expect(s.backend.logs.get(A)?.entries).toHaveLength(1);
  });

  it('a first line other than Authenticate is refused and the socket closed', async () => {
    const s = setup();
    const { socket, conn } = s.open();
    conn.onFrame(replay(0));
    await flush();
    expect(socket.lines()).toEqual([expect.stringMatching(/Error\("401", "Authenticate first"\)/)]);
    expect(socket.closed).toMatchObject({ code: CLOSE.policy });
  });

  it('DeleteAccount deletes the history; every connection of the account gets Deleted with a seq it acts on, then only Pong', async () => {
    const s = setup();
    const a = await signedIn(s);
    const b = await signedIn(s);
    a.conn.onFrame(rawLine(2, A, 'CreateBacklog', ['b1', 'x']));
    await flush();
    a.conn.onFrame(rawLine(3, A, 'DeleteAccount', ['']));
    await flush();
    expect(s.backend.logs.has(A)).toBe(false);
    expect(a.socket.lines().pop()).toMatch(/^4, .*: Error\("410", "Deleted"\)$/);
    expect(b.socket.lines().pop()).toMatch(/^3, .*: Error\("410", "Deleted"\)$/);
    b.conn.onFrame(rawLine(3, A, 'CreateBacklog', ['b2', 'x']));
    b.conn.onFrame(rawLine(1, 'admin@local.host', 'Ping', ['after']));
    await flush();
    expect(b.socket.lines().pop()).toMatch(/Pong\("after"/);
    expect(s.backend.logs.has(A)).toBe(false);
  });

  it('DeleteAccount where the backend cannot delete is refused and changes nothing', async () => {
    const s = setup({}, { deletable: false });
    const a = await signedIn(s);
    a.conn.onFrame(rawLine(2, A, 'DeleteAccount', ['']));
    await flush();
    expect(a.socket.lines().pop()).toMatch(/Error\("501", "DeleteAccount is not supported on the memory backend"\)/);
    expect(a.conn.state).toBe('ready');
  });

  it('after too many failed sign-ins from an address, even the right password is refused unchecked (429)', async () => {
    const s = setup();
    let checks = 0;
    const authenticate = s.backend.authenticate.bind(s.backend);
    s.backend.authenticate = (e, p) => {
      checks++;
      return authenticate(e, p);
    };
    for (let i = 0; i < s.deps.limits.authFailuresPerAddress; i++) {
      const { conn } = s.open();
      conn.onFrame(auth(A, 'basic|wrong'));
      await flush();
    }
    const { socket, conn } = s.open();
    conn.onFrame(auth());
    conn.onFrame(replay(0));
    await flush();
    expect(socket.lines()).toEqual([
      expect.stringMatching(
        /Error\("429", "Too many failed sign-ins for user alice@example\.org: try again in \d+ s"\)/,
      ),
    ]);
    expect(checks).toBe(s.deps.limits.authFailuresPerAddress);
    expect(s.deps.stats.signIns).toMatchObject({ wrong: 10, limited: 1, ok: 0 });
  });

  it('limits: connections per account, idle timeout', async () => {
    const s = setup({ maxConnectionsPerAccount: 1 });
    const a = await signedIn(s);
    const { socket, conn } = s.open();
    conn.onFrame(auth());
    conn.onFrame(replay(0));
    await flush();
    expect(socket.lines()).toEqual([
      expect.stringMatching(/Error\("429", "Too many connections for user alice@example\.org: at most 1"\)/),
    ]);
    expect(socket.closed).not.toBeNull();
    s.deps.timers.fire(s.deps.limits.idleTimeoutMs);
    expect(a.socket.closed).toMatchObject({ code: CLOSE.goingAway, reason: 'idle timeout' });
    expect(s.deps.hubs.connections(A)).toBe(0);
  });
});
