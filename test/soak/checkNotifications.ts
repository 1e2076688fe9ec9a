import type { Micros } from '../../src/core/clock';
import type { Pomodoro, User, Workitem } from '../../src/core/engine/model';
import type { StrategyRecord } from '../../src/core/engine/records';
import { formatInstant } from '../../src/core/engine/time';
import type { FkEvent } from '../../src/core/notify/event';

/**
 * The soak's second proof (pure): every notification the daemon sent matches the final history.
 *
 * What the final history says happened is read from the model the record engine builds from the
 * exported history, sealed far in the future (`User`): each pomodoro that ran has its work start,
 * its work end (`dateRestStarted`), its completion (`dateCompleted`) or its void (state back to
 * `new`, the interval ended at the void), and its interruptions. Neither the daemon's derivation
 * (`core/notify`) nor its runtime is used here. Then:
 * - a sent pomodoro event must be one of those happenings (type, workitem, pomodoro, instant;
 *   `seq` and `phase` where it has them), unless it is a transition a later `pomodoro.voided`
 *   retracts (the daemon rang it while it did not know of the void yet);
 * - a retraction may only name a transition that was sent and that the history says did not happen;
 * - every happening must have been sent (the daemon runs with `late: send`): else it is `missing`;
 * - `daemon.conflict` is never acceptable here (the history is valid).
 */
export interface NotificationReport {
  /** Webhook deliveries, repeats of an id included (delivery is at least once). */
  readonly deliveries: number;
  /** Distinct pomodoro and workitem events checked against the history. */
  readonly checked: number;
  readonly matched: number;
  /** Transitions sent and then retracted by a `pomodoro.voided`. */
  readonly retracted: number;
  readonly mismatches: string[];
  /** Happenings of the history no notification told. */
  readonly missing: string[];
  readonly daemonEvents: Readonly<Record<string, number>>;
}

interface Expected {
  readonly seq?: number;
  readonly phase?: 'work' | 'rest';
}

const key = (type: string, workitem: string, pomodoro: string | null, at: Micros | string): string =>
  `${type} ${workitem}/${pomodoro ?? ''} @${typeof at === 'string' ? at : formatInstant(at)}`;

/** What the final history says happened to `p`, with the seq of the record that caused each. */
function happenings(w: Workitem, p: Pomodoro, records: readonly StrategyRecord[], out: Map<string, Expected>): void {
  if (p.dateWorkStarted === null) return;
  const started = p.dateWorkStarted;
  const startIndex = records.findIndex((r) => r.name === 'StartTimer' && r.params[0] === w.uid && r.when === started);
  const start = records[startIndex];
  out.set(key('work.started', w.uid, p.name, started), start ? { seq: start.seq } : {});
  if (p.dateRestStarted !== null) {
    const type = p.restDuration > 0 ? 'work.finished' : 'longbreak.started';
    out.set(key(type, w.uid, p.name, p.dateRestStarted), {});
  }
  if (p.state === 'finished' && p.dateCompleted !== null)
    out.set(key('rest.finished', w.uid, p.name, p.dateCompleted), {});
  const iv = w.intervals[w.intervals.length - 1];
  if (p.state === 'new' && iv?.ended != null) {
    const at = iv.ended;
    const stop = records.slice(startIndex + 1).find((r) => r.name === 'StopTimer' && r.when === at);
    out.set(key('pomodoro.voided', w.uid, p.name, at), {
      phase: p.dateRestStarted !== null ? 'rest' : 'work',
      ...(stop ? { seq: stop.seq } : {}),
    });
  }
  for (const i of p.interruptions) {
    const rec = records.find((r) => r.name === 'AddInterruption' && r.params[0] === w.uid && r.when === i.createDate);
    out.set(key('interruption.added', w.uid, p.name, i.createDate), rec ? { seq: rec.seq } : {});
  }
}

/** Every happening of the final history, keyed like the sent events. Problems found go to `odd`. */
export function expectedEvents(user: User, records: readonly StrategyRecord[], odd: string[]): Map<string, Expected> {
  const out = new Map<string, Expected>();
  for (const b of user.backlogs.values())
    for (const w of b.workitems.values()) {
      // Each workitem is started once at most; a second interval would be a duplicated StartTimer.
      if (w.intervals.length > 1) odd.push(`workitem ${w.uid} ran ${w.intervals.length} times`);
      for (const p of w.pomodoros) happenings(w, p, records, out);
    }
  return out;
}

const TRANSITIONS = new Set(['work.finished', 'longbreak.started', 'rest.finished']);

export function checkNotifications(
  user: User,
  records: readonly StrategyRecord[],
  received: readonly FkEvent[],
): NotificationReport {
  const mismatches: string[] = [];
  const expected = expectedEvents(user, records, mismatches);
  const daemonEvents: Record<string, number> = {};
  // Distinct ids, in the order of their first delivery.
  const sent = new Map<string, { event: FkEvent; order: number }>();
  received.forEach((event, order) => {
    if (!sent.has(event.id)) sent.set(event.id, { event, order });
  });
  const keyOf = (e: FkEvent): string => key(e.type, e.workitem?.uid ?? '', e.pomodoro, e.at);
  // Which sent ids a later pomodoro.voided retracts (and the retractions to check).
  const retractedBy = new Map<string, FkEvent>();
  for (const { event: v, order } of sent.values()) {
    for (const id of v.retracts ?? []) {
      const r = sent.get(id);
      if (r === undefined) mismatches.push(`${v.id} retracts ${id}, which was never sent`);
      else if (r.order > order) mismatches.push(`${v.id} retracts ${id}, sent after it`);
      else if (
        !TRANSITIONS.has(r.event.type) ||
        r.event.workitem?.uid !== v.workitem?.uid ||
        r.event.pomodoro !== v.pomodoro
      )
        mismatches.push(`${v.id} retracts ${id}, not a transition of its own pomodoro`);
      else if (expected.has(keyOf(r.event)))
        mismatches.push(`${v.id} retracts ${id}, which the final history says happened`);
      else retractedBy.set(id, v);
    }
  }
  let checked = 0;
  let matched = 0;
  let retracted = 0;
  const told = new Set<string>();
  for (const { event: e } of sent.values()) {
    if (e.type.startsWith('daemon.')) {
      daemonEvents[e.type] = (daemonEvents[e.type] ?? 0) + 1;
      if (e.type === 'daemon.conflict') mismatches.push(`${e.id}: ${JSON.stringify(e.detail)}`);
      continue;
    }
    checked++;
    const k = keyOf(e);
    const want = expected.get(k);
    if (want === undefined) {
      if (retractedBy.has(e.id)) retracted++;
      else
        mismatches.push(
          `${e.id}: the final history has no such ` +
            `happening${TRANSITIONS.has(e.type) ? ' and no void retracts it' : ''}`,
        );
      continue;
    }
    told.add(k);
    if (want.seq !== undefined && e.seq !== want.seq)
      mismatches.push(`${e.id}: seq ${String(e.seq)}, the history says ${want.seq}`);
    else if (want.phase !== undefined && e.phase !== want.phase)
      mismatches.push(`${e.id}: phase ${String(e.phase)}, the history says ${want.phase}`);
    else matched++;
  }
  const missing = [...expected.keys()].filter((k) => !told.has(k));
  return { deliveries: received.length, checked, matched, retracted, mismatches, missing, daemonEvents };
}
