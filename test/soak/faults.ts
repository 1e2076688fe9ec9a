import type { FaultProxy } from '../support/faultProxy';
import type { Commands } from './commands';

/**
 * The soak's fault injector: while the writers run, it cuts connections through the fault proxy
 * at random moments, and now and then SIGKILLs a running command.
 *
 * - `drop`: every proxied connection dropped at once (writers, the daemon);
 * - `outage`: the same, and new connections refused for 1–3 s (the broker looks down);
 * - `daemon`: only the daemon cut off, for 2–8 s, while the writers go on (what it rings
 *   meanwhile may be voided by a record it reads later: the case for `retracts`);
 * - `publish`: the connection that next sends a record is dropped with it (the record never
 *   reaches the broker);
 * - `confirm`: the connection the broker next confirms a record on is dropped with the confirm
 *   (the record is stored; its writer never hears so);
 * - `blackhole`: as `confirm`, but the connection stays open and silent (a dead peer);
 * - `kill`: a running command is SIGKILLed (on a file history, the only fault).
 */
export type FaultKind = 'drop' | 'outage' | 'daemon' | 'publish' | 'confirm' | 'blackhole' | 'kill';

export type FaultCounts = Record<FaultKind, number>;

export interface FaultOptions {
  readonly proxy: FaultProxy | null;
  readonly daemonProxy: FaultProxy | null;
  readonly cutEvents: { readonly publish: string; readonly confirm: string } | null;
  readonly commands: Commands;
  readonly random: () => number;
  readonly stopped: () => boolean;
  /** Mean pause between faults, ms. */
  readonly meanGapMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long an armed cut waits for its event before it is taken back (not a failure: nothing sent one). */
const ARMED_MS = 10_000;

function weights(o: FaultOptions): Array<[FaultKind, number]> {
  if (o.proxy === null) return [['kill', 1]];
  const w: Array<[FaultKind, number]> = [
    ['drop', 3],
    ['outage', 2],
    ['kill', 2],
  ];
  if (o.daemonProxy !== null) w.push(['daemon', 2]);
  if (o.cutEvents !== null) w.push(['publish', 2], ['confirm', 3], ['blackhole', 1]);
  return w;
}

function pick(o: FaultOptions): FaultKind {
  const w = weights(o);
  let r = o.random() * w.reduce((s, [, n]) => s + n, 0);
  for (const [k, n] of w) {
    r -= n;
    if (r < 0) return k;
  }
  return w[0]?.[0] ?? 'kill';
}

/** Arms a cut on `event` and waits for it (or takes it back after a while); true when it happened. */
async function armed(
  proxy: FaultProxy,
  direction: 'up' | 'down',
  event: string,
  how: 'drop' | 'blackhole',
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const happened = await Promise.race([
    proxy.cutOn(direction, event, how).then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), ARMED_MS))),
  ]);
  clearTimeout(timer);
  proxy.disarm();
  return happened;
}

/** Runs until `stopped()`; returns how many faults of each kind actually happened. */
export async function injectFaults(o: FaultOptions): Promise<FaultCounts> {
  const counts: FaultCounts = { drop: 0, outage: 0, daemon: 0, publish: 0, confirm: 0, blackhole: 0, kill: 0 };
  const { proxy, daemonProxy } = o;
  const proxies = [proxy, daemonProxy].filter((p): p is FaultProxy => p !== null);
  /** Refuses and drops every connection of `ps` for `ms`. */
  const outage = async (ps: readonly FaultProxy[], ms: number): Promise<void> => {
    for (const p of ps) {
      p.refuse = true;
      p.dropAll();
    }
    await sleep(ms);
    for (const p of ps) p.refuse = false;
  };
  while (!o.stopped()) {
    await sleep(o.meanGapMs * (0.5 + o.random()));
    if (o.stopped()) break;
    const kind = pick(o);
    let done = false;
    if (kind === 'kill') done = o.commands.killOne((n) => Math.floor(o.random() * n));
    else if (kind === 'drop') {
      proxies.forEach((p) => p.dropAll());
      done = true;
    } else if (kind === 'outage') {
      await outage(proxies, 1000 + 2000 * o.random());
      done = true;
    } else if (kind === 'daemon' && daemonProxy !== null) {
      await outage([daemonProxy], 2000 + 6000 * o.random());
      done = true;
    } else if (proxy !== null && o.cutEvents !== null) {
      const { publish, confirm } = o.cutEvents;
      if (kind === 'publish') done = await armed(proxy, 'up', publish, 'drop');
      else if (kind === 'confirm') done = await armed(proxy, 'down', confirm, 'drop');
      else done = await armed(proxy, 'down', confirm, 'blackhole');
    }
    if (done) counts[kind]++;
  }
  for (const p of proxies) {
    p.disarm();
    p.refuse = false;
  }
  return counts;
}
