import type { Logger } from '../core/logger';
import type { AccountAccess } from './backend';
import { openHub, type Hub, type HubMember } from './hub';

/**
 * The open hubs, one per account with connections. The first authenticated connection opens the
 * account's history (with its own credentials, which matters on brokers); the hub closes when
 * its last connection leaves and `lingerMs` passed without a new one (a reconnecting client
 * finds it still open and caught up).
 */
export interface Hubs {
  /** Joins `member` to the account's hub, opening it if needed. */
  join(access: AccountAccess, member: HubMember): Promise<Hub>;
  leave(hub: Hub, member: HubMember): void;
  /** Closes and forgets an account's hub at once (after its history was deleted). */
  drop(hub: Hub): Promise<void>;
  readonly size: number;
  /** Connections per account. */
  connections(account: string): number;
  all(): Iterable<Hub>;
  close(): Promise<void>;
}

export interface HubsOptions {
  readonly logger: Logger;
  /** How long an unused hub stays open. @default 30000 */
  readonly lingerMs?: number;
  /** Timers, injectable for tests. */
  readonly setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

const defaultTimer = (fn: () => void, ms: number): { cancel(): void } => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

export function createHubs(opts: HubsOptions): Hubs {
  const lingerMs = opts.lingerMs ?? 30_000;
  const setTimer = opts.setTimer ?? defaultTimer;
  const open = new Map<string, Promise<Hub>>();
  const ready = new Map<string, Hub>();
  const lingering = new Map<string, { cancel(): void }>();
  /** Joined or joining, per account: counts toward the per-account limit before the hub is open. */
  const counts = new Map<string, number>();

  async function hubFor(access: AccountAccess): Promise<Hub> {
    const existing = open.get(access.email);
    if (existing) return existing;
    const opening = openHub({ account: access.email, transport: access.openHistory(), logger: opts.logger });
    open.set(access.email, opening);
    try {
      const hub = await opening;
      ready.set(access.email, hub);
      return hub;
    } catch (err) {
      open.delete(access.email);
      throw err;
    }
  }

  async function closeHub(hub: Hub): Promise<void> {
    lingering.get(hub.account)?.cancel();
    lingering.delete(hub.account);
    if (ready.get(hub.account) === hub) {
      ready.delete(hub.account);
      open.delete(hub.account);
    }
    await hub
      .close()
      .catch((err: unknown) => opts.logger.warn({ err, account: hub.account }, 'closing a history failed'));
  }

  return {
    async join(access, member) {
      counts.set(access.email, (counts.get(access.email) ?? 0) + 1);
      lingering.get(access.email)?.cancel();
      lingering.delete(access.email);
      try {
        const hub = await hubFor(access);
        hub.join(member);
        return hub;
      } catch (err) {
        counts.set(access.email, (counts.get(access.email) ?? 1) - 1);
        throw err;
      }
    },
    leave(hub, member) {
      if (!hub.members.has(member)) return;
      hub.leave(member);
      counts.set(hub.account, Math.max(0, (counts.get(hub.account) ?? 1) - 1));
      if (hub.members.size === 0 && ready.get(hub.account) === hub) {
        lingering.set(
          hub.account,
          setTimer(() => {
            lingering.delete(hub.account);
            if (hub.members.size === 0) void closeHub(hub);
          }, lingerMs),
        );
      }
    },
    async drop(hub) {
      for (const m of [...hub.members]) {
        hub.leave(m);
        counts.set(hub.account, Math.max(0, (counts.get(hub.account) ?? 1) - 1));
      }
      await closeHub(hub);
    },
    get size() {
      return ready.size;
    },
    connections: (account) => counts.get(account) ?? 0,
    all: () => ready.values(),
    async close() {
      const all = [...ready.values()];
      await Promise.all(all.map((h) => closeHub(h)));
    },
  };
}
