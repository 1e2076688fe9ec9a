import { spawn, type ChildProcess } from 'node:child_process';
import type { Outcome } from './actions';

/** A finished `fk` command: how it ended and what it printed. */
export interface Finished {
  readonly outcome: Outcome;
  readonly stdout: string;
}

/**
 * Runs `fk` commands as real processes (asynchronously: the soak's webhook receiver and fault
 * proxy live in this process and must keep answering). Tracks the running ones so the fault
 * injector can SIGKILL one; a command still running after `hangMs` is killed and reported hung.
 */
export interface Commands {
  run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Finished>;
  /** SIGKILLs one running command picked by `pick` (an index below the count); false when none runs. */
  killOne(pick: (count: number) => number): boolean;
  readonly running: number;
}

export function commands(cli: string, hangMs: number): Commands {
  const live = new Map<ChildProcess, { killed: boolean }>();
  return {
    get running() {
      return live.size;
    },
    killOne(pick) {
      const all = [...live.entries()].filter(([c]) => c.exitCode === null && c.signalCode === null);
      if (all.length === 0) return false;
      const chosen = all[pick(all.length)];
      if (chosen === undefined) return false;
      chosen[1].killed = true;
      chosen[0].kill('SIGKILL');
      return true;
    },
    run(args, env) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        const mark = { killed: false };
        live.set(child, mark);
        let stdout = '';
        let stderr = '';
        let hung = false;
        child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const timer = setTimeout(() => {
          hung = true;
          child.kill('SIGKILL');
        }, hangMs);
        const done = (code: number | null, spawnError?: Error): void => {
          clearTimeout(timer);
          live.delete(child);
          const lines = stderr.trim().split('\n').filter((l) => l.startsWith('fk:'));
          // A crash (no `fk:` line) is reported with the head of what Node printed: where it threw.
          const crash = stderr.trim().split('\n').slice(0, 12).join(' | ');
          const error = spawnError?.message ?? lines[lines.length - 1] ?? crash;
          resolve({ outcome: { code, killed: mark.killed && !hung, hung, error }, stdout });
        };
        child.on('error', (err) => done(null, err));
        child.on('close', (code) => done(code));
      });
    },
  };
}
