import { TransportError } from '../core/errors';
import { mmss, type TimerView } from '../core/notify/timerView';

/** Asks a running daemon's `/status` (for `fk daemon status`). */
export async function fetchDaemonStatus(url: string, timeoutMs = 5000): Promise<unknown> {
  const target = `${url.replace(/\/+$/, '')}/status`;
  let res: Response;
  try {
    res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new TransportError(
      'FK_TRANSPORT_UNAVAILABLE',
      `no daemon answers at '${target}': ${cause?.code ?? (err as Error).message}`,
      { cause: err, retryable: true },
    );
  }
  if (!res.ok)
    throw new TransportError('FK_TRANSPORT_UNAVAILABLE', `daemon at '${target}' answered ${res.status}`, {
      retryable: true,
    });
  return res.json();
}

function timerLine(t: TimerView | null): string {
  if (t === null) return 'no history yet';
  if (t.state === 'idle') return 'idle';
  const what = `${t.pomodoro ?? ''} of '${t.workitem?.name ?? ''}'`;
  if (t.state === 'work') return `work: ${what}, ${mmss(t.remainingSeconds ?? 0)} left (until ${t.until ?? '?'})`;
  if (t.state === 'rest') return `rest after ${what}, ${mmss(t.remainingSeconds ?? 0)} left (until ${t.until ?? '?'})`;
  if (t.state === 'long-break') return `long break after ${what}, ${mmss(t.elapsedSeconds ?? 0)} so far`;
  return `tracking ${what}, ${mmss(t.elapsedSeconds ?? 0)} so far`;
}

interface StatusShape {
  daemon?: { id?: string; name?: string; startedAt?: string };
  users?: Array<{
    user: string;
    backend: string;
    online: boolean;
    caughtUp: boolean;
    lastSeq: number;
    historyError: { code: string } | null;
    timer: TimerView | null;
    reason?: string | null;
    ignored?: { counts?: Record<string, number> };
  }>;
  targets?: Array<{ name: string; type: string; pending?: number; delivered?: number; failed?: number }>;
  outbox?: { pending?: number };
}

/** The human form of `/status`. */
export function formatDaemonStatus(raw: unknown): string[] {
  const s = raw as StatusShape;
  const lines = [
    `daemon ${s.daemon?.name ?? '?'} (${s.daemon?.id ?? '?'}) since ${s.daemon?.startedAt ?? '?'}, ` +
      `outbox ${s.outbox?.pending ?? 0} pending`,
  ];
  for (const u of s.users ?? []) {
    const why = u.reason ? `: ${u.reason}` : '';
    const state = u.historyError
      ? `history conflict (${u.historyError.code})`
      : !u.caughtUp
        ? 'catching up'
        : u.online
          ? 'online'
          : `offline (read-only${why})`;
    const ignored = Object.entries(u.ignored?.counts ?? {}).filter(([k, n]) => k !== 'lostRaces' && n > 0);
    const junk = ignored.length === 0 ? '' : `; ignored records: ${ignored.map(([k, n]) => `${k} ${n}`).join(', ')}`;
    lines.push(`${u.user} on ${u.backend}: ${state}, seq ${u.lastSeq}; ${timerLine(u.timer)}${junk}`);
  }
  for (const t of s.targets ?? [])
    lines.push(
      `target ${t.name} (${t.type}): delivered ${t.delivered ?? 0}, ` +
        `failed attempts ${t.failed ?? 0}, pending ${t.pending ?? 0}`,
    );
  return lines;
}
