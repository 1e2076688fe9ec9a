import { startFk, type FkProcess } from '../support/fkProcess';

/** The part of the daemon's `/status` the soak reads. */
export interface SoakStatus {
  readonly users: Array<{
    readonly state: string;
    readonly online: boolean;
    readonly caughtUp: boolean;
    readonly lastSeq: number;
    readonly historyError: { readonly code: string; readonly message: string } | null;
    readonly ignored?: { readonly counts?: Readonly<Record<string, number>> };
    readonly timer: { readonly state: string } | null;
  }>;
  readonly outbox: { readonly pending: number };
}

export interface SoakDaemon {
  readonly proc: FkProcess;
  status(): Promise<SoakStatus | null>;
  /** Log lines at warn or above. */
  warnings(): Array<Record<string, unknown>>;
  /** SIGTERM; the exit status, or 'hung' when it had to be killed. */
  stop(): Promise<number | null | 'hung'>;
}

/**
 * `fk daemon` on the soak's history (through the fault proxy like the writers), with `late: send`
 * (every transition is told, even one found overdue) and a webhook to the soak's receiver.
 */
export async function startSoakDaemon(
  cli: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  webhook: string,
  stateDir: string,
): Promise<SoakDaemon> {
  const proc = startFk(
    cli,
    [
      ...args,
      'daemon',
      '--name',
      'soak',
      '--late',
      'send',
      '--http',
      '127.0.0.1:0',
      '--webhook',
      webhook,
      '--state-dir',
      stateDir,
    ],
    env,
  );
  // Generous: the first start derives the key (Argon2id) on a machine that may be loaded.
  await proc.logged('daemon ready', () => true, 180_000);
  const port = Number(proc.logs.find((l) => l.msg === 'http listening')?.port);
  return {
    proc,
    async status() {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/status`);
        return (await res.json()) as SoakStatus;
      } catch {
        return null;
      }
    },
    warnings: () => proc.logs.filter((l) => Number(l.level) >= 40),
    async stop() {
      const signalled = Date.now();
      const code = await proc.stop();
      // shutdownTimeoutMs is 5 s: one signal must end it well within fkProcess's 15 s SIGKILL.
      return proc.child.signalCode === 'SIGKILL' && Date.now() - signalled >= 15_000 ? 'hung' : code;
    },
  };
}

/** Polls an asynchronous condition until it holds (true) or the deadline passes (false). */
export async function until(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}
