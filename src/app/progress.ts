/**
 * A one-line progress bar on stderr for operations that can take more than a second (replaying
 * a large history, import, migrate, export). Draws only on a terminal, only after `delayMs` (so
 * quick runs print nothing), at most every `intervalMs`, and erases itself when done. No timers:
 * it redraws from `update` calls, so it never keeps the process alive.
 */
export interface ProgressOptions {
  /** What is being done: `replaying`, `importing`, … */
  readonly label: string;
  /** Amount of work; omit when unknown (a counter is shown instead of a bar). */
  readonly total?: number;
  /** @default process.stderr */
  readonly stream?: { write(s: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** @default stream.isTTY */
  readonly enabled?: boolean;
  /** Nothing is drawn before this many milliseconds. @default 300 */
  readonly delayMs?: number;
  /** Least time between two redraws, in milliseconds. @default 100 */
  readonly intervalMs?: number;
  /** Milliseconds clock, for tests. @default performance.now */
  readonly now?: () => number;
}

export interface Progress {
  /** Sets how much is done (and optionally the total and the label). */
  update(done: number, total?: number, label?: string): void;
  /** Adds `n` (default 1) to what is done. */
  tick(n?: number): void;
  /** Erases the bar (if it was drawn). Idempotent. */
  done(): void;
}

const WIDTH = 24;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? stream.isTTY === true;
  const now = opts.now ?? (() => performance.now());
  const start = now();
  const delay = opts.delayMs ?? 300;
  const interval = opts.intervalMs ?? 100;
  let label = opts.label;
  let total = opts.total;
  let done = 0;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  let finished = false;

  const render = (): string => {
    if (total === undefined || total <= 0) return `${label} ${fmt(done)}`;
    const ratio = Math.min(1, Math.max(0, done / total));
    const full = Math.round(ratio * WIDTH);
    return `${label} [${'#'.repeat(full)}${'-'.repeat(WIDTH - full)}] ` +
      `${String(Math.floor(ratio * 100)).padStart(3)}% ${fmt(done)}/${fmt(total)}`;
  };

  const draw = (force: boolean): void => {
    if (!enabled || finished) return;
    const t = now();
    if (t - start < delay || (!force && t - lastDraw < interval)) return;
    lastDraw = t;
    drawn = true;
    const text = render();
    const max = (stream.columns ?? 80) - 1;
    stream.write(`\r${text.length > max ? text.slice(0, max) : text}\u001b[K`);
  };

  return {
    update(d, t, l) {
      done = d;
      if (t !== undefined) total = t;
      const relabel = l !== undefined && l !== label;
      if (l !== undefined) label = l;
      draw(relabel);
    },
    tick(n = 1) {
      done += n;
      draw(false);
    },
    done() {
      if (finished) return;
      finished = true;
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
