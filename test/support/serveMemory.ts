import { createMemoryHub, createMemoryTransport, type MemoryHub } from '../../src/transports/memory';
import { fixedClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { createAuthLimiter } from '../../src/serve/authLimiter';
import type { AccountAccess, ServeBackend } from '../../src/serve/backend';
import type { ConnectionDeps, PeerSocket, Timer } from '../../src/serve/connection';
import { createHubs } from '../../src/serve/hubs';
import { DEFAULT_LIMITS, type ServeLimits } from '../../src/serve/limits';
import { createStats } from '../../src/serve/stats';

/** A `ServeBackend` over in-process logs (one memory hub per account), for unit tests. */
export function memoryBackend(
  accounts: Record<string, string>,
  opts: { deletable?: boolean } = {},
): ServeBackend & { logs: Map<string, MemoryHub> } {
  const logs = new Map<string, MemoryHub>();
  const log = (email: string): MemoryHub => {
    let hub = logs.get(email);
    if (!hub) logs.set(email, (hub = createMemoryHub()));
    return hub;
  };
  return {
    kind: 'memory',
    where: 'memory',
    logs,
    async authenticate(email, password) {
      if (accounts[email] !== password) return null;
      const access: AccountAccess = {
        email,
        openHistory: () => createMemoryTransport(log(email)),
        ...(opts.deletable === false ? {} : { deleteHistory: async () => void logs.delete(email) }),
      };
      return access;
    },
    close: async () => undefined,
  };
}

/** Timers fired by hand. */
export function manualTimers(): {
  setTimer: (fn: () => void, ms: number) => Timer;
  fire(ms: number): void;
  pending(): number[];
} {
  const timers = new Set<{ fn: () => void; ms: number }>();
  return {
    setTimer(fn, ms) {
      const t = { fn, ms };
      timers.add(t);
      return { cancel: () => void timers.delete(t) };
    },
    /** Fires every pending timer set for `ms`. */
    fire(ms) {
      for (const t of [...timers]) {
        if (t.ms === ms) {
          timers.delete(t);
          t.fn();
        }
      }
    },
    pending: () => [...timers].map((t) => t.ms),
  };
}

/** A socket that records what the server sends. */
export function fakeSocket(): PeerSocket & {
  frames: string[];
  lines(): string[];
  closed: { code: number; reason: string } | null;
} {
  const s = {
    frames: [] as string[],
    closed: null as { code: number; reason: string } | null,
    bufferedAmount: 0,
    send(text: string | Buffer, done?: (err?: Error) => void) {
      s.frames.push(text.toString());
      done?.();
    },
    close(code: number, reason: string) {
      s.closed = { code, reason };
    },
    lines: () => s.frames.flatMap((f) => f.split('\n')),
  };
  return s;
}

export function connectionDeps(
  backend: ServeBackend,
  limits: Partial<ServeLimits> = {},
  timers = manualTimers(),
): ConnectionDeps & { timers: ReturnType<typeof manualTimers> } {
  return {
    backend,
    hubs: createHubs({ logger: silentLogger, lingerMs: 1000, setTimer: timers.setTimer }),
    limits: { ...DEFAULT_LIMITS, ...limits },
    authLimiter: createAuthLimiter({ now: () => 0 }),
    clock: fixedClock(1_780_000_000_000_000),
    stats: createStats(),
    logger: silentLogger,
    setTimer: timers.setTimer,
    timers,
  };
}

/** Lets queued microtasks and the memory transport's deliveries run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
