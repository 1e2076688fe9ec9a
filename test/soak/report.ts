import { ACTION_KINDS, type Action } from './actions';
import type { HistoryReport } from './checkHistory';
import type { NotificationReport } from './checkNotifications';
import type { FaultCounts } from './faults';

/** Everything a soak run found, printed as `name: value` lines and a verdict. */
export interface SoakResult {
  readonly backend: string;
  readonly where: string;
  readonly seed: number;
  readonly lanes: number;
  readonly seconds: number;
  readonly history: HistoryReport;
  readonly notifications: NotificationReport;
  readonly faults: FaultCounts;
  readonly records: number;
  readonly daemon: {
    readonly exit: number | null | 'hung';
    readonly caughtUp: boolean;
    readonly warnings: number;
    readonly ignored: Readonly<Record<string, number>>;
  };
  readonly actions: readonly Action[];
}

/** The violations of a run (empty: the run proves what it should). */
export function violations(r: SoakResult): string[] {
  const v: string[] = [];
  const h = r.history;
  if (h.total.lost > 0) v.push(`${h.total.lost} acknowledged actions lost`);
  if (h.total.duplicated > 0) v.push(`${h.total.duplicated} actions duplicated`);
  if (h.unexplained > 0) v.push(`${h.unexplained} records no action explains`);
  if (h.unexpectedEnds > 0) v.push(`${h.unexpectedEnds} commands hung or ended with an unexpected status`);
  if (r.notifications.mismatches.length > 0)
    v.push(`${r.notifications.mismatches.length} notifications mismatch the history`);
  if (r.notifications.missing.length > 0) v.push(`${r.notifications.missing.length} happenings never notified`);
  if (!r.daemon.caughtUp) v.push('the daemon did not catch up with the final history');
  if (r.daemon.exit !== 0) v.push(`the daemon's shutdown ended with ${String(r.daemon.exit)}`);
  return v;
}

/** Failed commands grouped by message (uids and numbers blanked), most frequent first. */
function failureSummary(actions: readonly Action[]): string[] {
  const groups = new Map<string, number>();
  for (const a of actions) {
    const o = a.outcome;
    if (o.code === 0 && !o.killed && !o.hung) continue;
    const how = o.hung ? 'hung' : o.killed ? 'killed' : `exit ${String(o.code)}`;
    const msg = o.killed
      ? ''
      : o.error
          .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uid>')
          .replace(/\d+/g, 'N')
          .slice(0, 110);
    const k = `${a.intent.kind} ${how} ${msg}`.trim();
    groups.set(k, (groups.get(k) ?? 0) + 1);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([k, n]) => `${String(n).padStart(5)}  ${k}`);
}

export function printReport(r: SoakResult, out: (line: string) => void): void {
  const h = r.history;
  const n = r.notifications;
  const f = r.faults;
  const cuts = f.drop + f.outage + f.daemon + f.publish + f.confirm + f.blackhole;
  out(`soak: backend ${r.backend} (${r.where}), ${r.lanes} writers, ${r.seconds} s, seed ${r.seed}`);
  out(`actions attempted: ${h.total.attempted}`);
  out(`actions exited 0: ${h.total.ok}`);
  out(`actions present: ${h.total.present} (of them failed commands present anyway: ${h.total.failedPresent})`);
  out(`actions lost: ${h.total.lost}`);
  out(`actions duplicated: ${h.total.duplicated}`);
  out(`records unexplained: ${h.unexplained}`);
  out(`commands hung or unexpected exit: ${h.unexpectedEnds}`);
  for (const k of ACTION_KINDS) {
    const c = h.byKind[k];
    out(
      `  ${k.padEnd(8)} attempted ${c.attempted}, exited 0 ${c.ok}, present ${c.present} (failed but present ` +
        `${c.failedPresent}), lost ${c.lost}, duplicated ${c.duplicated}`,
    );
  }
  out(`history records: ${r.records}`);
  out(
    `cuts made: ${cuts} (drop ${f.drop}, outage ${f.outage}, daemon alone ${f.daemon}, at publish ${f.publish}, ` +
      `at confirm ${f.confirm}, blackhole ${f.blackhole})`,
  );
  out(`commands killed: ${f.kill}`);
  out(`notifications delivered: ${n.deliveries} (distinct pomodoro events checked: ${n.checked})`);
  out(`notifications checked: ${n.checked} (matched ${n.matched}, retracted by a later void ${n.retracted})`);
  out(`notifications mismatched: ${n.mismatches.length}`);
  out(`happenings never notified: ${n.missing.length}`);
  out(
    `daemon events: ${JSON.stringify(n.daemonEvents)}; warnings logged ${r.daemon.warnings}; records ignored ` +
      `${JSON.stringify(r.daemon.ignored)}; exit ${String(r.daemon.exit)}`,
  );
  const failures = failureSummary(r.actions);
  if (failures.length > 0) {
    out('failed commands (count, action, how, message):');
    failures.forEach((l) => out(l));
  }
  const problems = [
    ...h.problems,
    ...n.mismatches.map((m) => `notification: ${m}`),
    ...n.missing.map((m) => `never notified: ${m}`),
  ];
  problems.slice(0, 40).forEach((p) => out(`PROBLEM ${p}`));
  if (problems.length > 40) out(`PROBLEM … and ${problems.length - 40} more`);
  const v = violations(r);
  out(v.length === 0 ? 'soak: OK' : `soak: FAILED: ${v.join('; ')}`);
}
