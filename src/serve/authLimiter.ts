/**
 * Authentication rate limiting: failed sign-ins are counted per client address and per account
 * in a sliding window; past the limit, further attempts are refused without checking the
 * password (no password guessing, no load on the broker or on Argon2id). A success clears the
 * account's count. Keys are forgotten once their window passed, so memory is
 * bounded by the failures of one window.
 */
export interface AuthLimiter {
  /** Null when an attempt may go ahead, else how many seconds until it may. */
  blocked(address: string, account: string): number | null;
  failed(address: string, account: string): void;
  succeeded(address: string, account: string): void;
  /** Keys currently tracked (for metrics and tests). */
  readonly size: number;
}

export interface AuthLimiterOptions {
  /** Failures allowed per address in a window. @default 10 */
  readonly perAddress?: number;
  /** Failures allowed per account in a window, over all addresses. @default 20 */
  readonly perAccount?: number;
  /** @default 60000 */
  readonly windowMs?: number;
  /** Milliseconds; injectable for tests. */
  readonly now?: () => number;
}

export const DEFAULT_AUTH_LIMITS = { perAddress: 10, perAccount: 20, windowMs: 60_000 } as const;

export function createAuthLimiter(opts: AuthLimiterOptions = {}): AuthLimiter {
  const perAddress = opts.perAddress ?? DEFAULT_AUTH_LIMITS.perAddress;
  const perAccount = opts.perAccount ?? DEFAULT_AUTH_LIMITS.perAccount;
  const windowMs = opts.windowMs ?? DEFAULT_AUTH_LIMITS.windowMs;
  const now = opts.now ?? Date.now;
  /** Failure times per key (`a:` address, `u:` account), oldest first. */
  const failures = new Map<string, number[]>();

  function recent(key: string, t: number): number[] {
    const list = failures.get(key);
    if (!list) return [];
    while (list.length > 0 && (list[0] as number) <= t - windowMs) list.shift();
    if (list.length === 0) failures.delete(key);
    return list;
  }

  function sweep(t: number): void {
    if (failures.size < 10_000) return;
    for (const key of [...failures.keys()]) recent(key, t);
  }

  function wait(list: number[], limit: number, t: number): number | null {
    if (list.length < limit) return null;
    const oldest = list[list.length - limit] as number;
    return Math.max(1, Math.ceil((oldest + windowMs - t) / 1000));
  }

  return {
    blocked(address, account) {
      const t = now();
      const a = wait(recent(`a:${address}`, t), perAddress, t);
      const u = wait(recent(`u:${account}`, t), perAccount, t);
      return a === null && u === null ? null : Math.max(a ?? 0, u ?? 0);
    },
    failed(address, account) {
      const t = now();
      sweep(t);
      for (const key of [`a:${address}`, `u:${account}`]) {
        const list = recent(key, t);
        list.push(t);
        failures.set(key, list);
      }
    },
    succeeded(_address, account) {
      // The account's count only: a sign-in to an account of one's own must not reset the
      // address's count while it guesses at others.
      failures.delete(`u:${account}`);
    },
    get size() {
      return failures.size;
    },
  };
}
