/**
 * One `onShutdown` helper for the daemon (STYLE §1, after emmett's gracefulShutdown): the first
 * SIGTERM or SIGINT resolves the returned promise (the caller stops accepting work, flushes and
 * closes); a second one exits at once with status 1, for an operator who does not want to wait.
 */
export function onShutdown(proc: NodeJS.Process = process): {
  readonly requested: Promise<NodeJS.Signals>;
  dispose(): void;
} {
  let resolve!: (s: NodeJS.Signals) => void;
  const requested = new Promise<NodeJS.Signals>((r) => (resolve = r));
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) resolve(signal);
    else proc.exit(1);
  };
  proc.on('SIGTERM', handler);
  proc.on('SIGINT', handler);
  return {
    requested,
    dispose() {
      proc.removeListener('SIGTERM', handler);
      proc.removeListener('SIGINT', handler);
    },
  };
}
