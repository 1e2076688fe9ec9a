import type { Micros } from '../core/clock';
import { formatInstant } from '../core/engine/time';
import type { AcceptStats } from './acceptor';
import type { DeliveryLoop } from './delivery';
import { renderPrometheus, type MetricFamily } from '../app/metrics';
import { describeTargets, type DaemonConfig } from './options';
import type { Outbox } from './outbox';
import type { SessionWatcher, WatcherStatus } from './sessionWatcher';

/** What `/status` answers (and `fk daemon status` prints). */
export interface DaemonStatus {
  readonly daemon: {
    readonly id: string;
    readonly name: string;
    readonly startedAt: string;
    readonly late: string;
    readonly stopping: boolean;
  };
  readonly users: WatcherStatus[];
  readonly targets: Array<Record<string, unknown>>;
  readonly outbox: { readonly pending: number };
}

/** What `/readyz` answers: ready when every history is followed. */
export interface Readiness {
  readonly ready: boolean;
  readonly sessions: Array<{ user: string; backend: string; state: string; reason: string | null }>;
}

/** The parts of a running daemon the reports read. */
export interface ReportSources {
  readonly config: DaemonConfig;
  readonly id: string;
  readonly startedAt: Micros;
  readonly stopping: boolean;
  readonly watchers: readonly SessionWatcher[];
  readonly loops: ReadonlyMap<string, DeliveryLoop>;
  readonly outbox: Outbox | null;
  readonly accepted: AcceptStats | null;
  readonly lateDropped: number;
}

export function readiness(src: ReportSources): Readiness {
  const sessions = src.watchers.map((w) => {
    const s = w.status();
    return { user: s.user, backend: s.backend, state: s.state, reason: s.reason };
  });
  return { ready: !src.stopping && src.watchers.length > 0 && src.watchers.every((w) => w.followed), sessions };
}

export function daemonStatus(src: ReportSources): DaemonStatus {
  const { config } = src;
  return {
    daemon: {
      id: src.id,
      name: config.name,
      startedAt: formatInstant(src.startedAt),
      late: config.late,
      stopping: src.stopping,
    },
    users: src.watchers.map((w) => w.status()),
    targets: describeTargets(config.targets).map((t) => {
      const l = src.loops.get(String(t.name));
      return { ...t, pending: src.outbox?.depth(String(t.name)) ?? 0, ...(l ? { ...l.stats } : {}) };
    }),
    outbox: { pending: src.outbox?.depth() ?? 0 },
  };
}

type Sample = MetricFamily['samples'][number];

export function daemonMetrics(src: ReportSources): string {
  const loops = [...src.loops.values()];
  const per = (f: (l: DeliveryLoop) => number): Sample[] =>
    loops.map((l) => ({ labels: { target: l.target.name }, value: f(l) }));
  const one = (value: number): Sample[] => [{ value }];
  const users = src.watchers.map((w) => ({ w, s: w.status() }));
  const perUser = (f: (w: SessionWatcher, s: WatcherStatus) => number): Sample[] =>
    users.map(({ w, s }) => ({ labels: { user: s.user, backend: s.backend }, value: f(w, s) }));
  const derived = [...(src.accepted?.derived ?? new Map<string, number>())];
  const families: Array<[string, string, MetricFamily['type'], Sample[]]> = [
    ['fk_daemon_events_delivered_total', 'Events confirmed by a target.', 'counter', per((l) => l.stats.delivered)],
    [
      'fk_daemon_events_failed_total',
      'Failed delivery attempts (each retry counts).',
      'counter',
      per((l) => l.stats.failed),
    ],
    [
      'fk_daemon_events_dropped_total',
      'Events given up after retry.maxAttempts.',
      'counter',
      per((l) => l.stats.dropped),
    ],
    [
      'fk_daemon_outbox_depth',
      'Events waiting in the outbox for a target.',
      'gauge',
      per((l) => src.outbox?.depth(l.target.name) ?? 0),
    ],
    ['fk_daemon_outbox_pending', 'Distinct events waiting in the outbox.', 'gauge', one(src.outbox?.depth() ?? 0)],
    [
      'fk_daemon_events_derived_total',
      'Events derived from the history and the timer, by type.',
      'counter',
      derived.map(([type, value]) => ({ labels: { type }, value })),
    ],
    [
      'fk_daemon_events_deduplicated_total',
      'Events not sent again: already in the outbox or claimed by another daemon.',
      'counter',
      one(src.accepted?.deduplicated ?? 0),
    ],
    [
      'fk_daemon_events_late_dropped_total',
      'Transitions that happened while no daemon ran, applied silently (late: drop).',
      'counter',
      one(src.lateDropped),
    ],
    ['fk_daemon_sessions', 'Configured sessions (user and backend).', 'gauge', one(src.watchers.length)],
    [
      'fk_daemon_sessions_online',
      'Sessions whose history is followed.',
      'gauge',
      one(src.watchers.filter((w) => w.followed).length),
    ],
    [
      'fk_daemon_session_online',
      'Whether a session’s history is followed (caught up, online, no conflict).',
      'gauge',
      perUser((w) => (w.followed ? 1 : 0)),
    ],
    ['fk_daemon_last_seq', 'Last history sequence number applied.', 'gauge', perUser((_w, s) => s.lastSeq)],
    [
      'fk_daemon_records_ignored_total',
      'History records every reader ignores, by reason (junk that fails authentication, lost races, rule rejections).',
      'counter',
      users.flatMap(({ s }) =>
        Object.entries(s.ignored.counts).map(([reason, value]) => ({
          labels: { user: s.user, backend: s.backend, reason },
          value,
        })),
      ),
    ],
  ];
  return renderPrometheus(families.map(([name, help, type, samples]) => ({ name, help, type, samples })));
}
