import { spawn } from 'node:child_process';

/**
 * Deadlines for tests about things that must end (issue 11.3). They never assert speed: a
 * deadline far above the bound under test only tells "ended" from "hung".
 */
export const HANG_DEADLINE_MS = 45_000;

/** 'settled' when `p` settles (either way) before the deadline, 'hung' otherwise. */
export async function settles(p: Promise<unknown>, deadlineMs = HANG_DEADLINE_MS): Promise<'settled' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), deadlineMs)));
  const done = p.then(
    () => 'settled' as const,
    () => 'settled' as const,
  );
  try {
    return await Promise.race([done, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits (polling) until `cond` holds; throws naming `what` after the deadline. `poll` (optional)
 * runs before each check, e.g. to fetch what `cond` looks at.
 */
export async function eventually(
  cond: () => boolean,
  what: string,
  deadlineMs = HANG_DEADLINE_MS,
  poll?: () => Promise<unknown>,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    await poll?.().catch(() => undefined);
    if (cond()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the process had not exited by the deadline (it was then killed). */
  readonly hung: boolean;
}

/**
 * Runs `node script …args` without blocking this process's event loop (a fault proxy may live
 * in it); kills the child at the deadline and reports it as hung.
 */
export function runNode(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  deadlineMs = 2 * HANG_DEADLINE_MS,
): Promise<ProcessRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hung = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung });
    });
  });
}

/**
 * CPU load beside a test (what issue 11 asks tests to survive): `n` busy processes until `stop`.
 * Use sparingly and briefly: the machine is shared.
 */
export function cpuLoad(n: number): { stop: () => Promise<void> } {
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    stop: () =>
      Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      ).then(() => undefined),
  };
}
