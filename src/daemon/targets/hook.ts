import { spawn } from 'node:child_process';
import { TransportError } from '../../core/errors';
import type { FkEvent } from '../../core/notify/notifications';
import type { HookTargetConfig } from '../options';
import type { Target } from './target';

/** Environment variables that must not reach a hook (the daemon's own secrets). */
const SECRET_ENV = /PASSPHRASE|PASSWORD|SECRET|TOKEN|_KEY$/i;

/**
 * Runs a program per event, without a shell: `spawn(argv[0], argv.slice(1))`, the event JSON on
 * stdin, `FK_EVENT_ID`/`FK_EVENT_TYPE`/`FK_EVENT_USER` in its environment (the daemon's secrets
 * removed). Exit 0 confirms; another exit code, a signal or the timeout (the process is killed)
 * fails the attempt.
 */
export function createHookTarget(cfg: HookTargetConfig): Target {
  const [program, ...args] = cfg.argv as [string, ...string[]];
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SECRET_ENV.test(k)) env[k] = v;
  const fail = (message: string, cause?: unknown): TransportError =>
    new TransportError('FK_TRANSPORT_UNAVAILABLE', `hook '${cfg.name}' (${program}): ${message}`, {
      retryable: true,
      ...(cause ? { cause } : {}),
    });
  const running = new Set<ReturnType<typeof spawn>>();

  return {
    name: cfg.name,
    type: 'hook',
    events: cfg.events,
    retry: cfg.retry,
    dedupeKey: cfg.dedupeKey,
    deliver(event: FkEvent, body: string): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const child = spawn(program, args, {
          stdio: ['pipe', 'ignore', 'ignore'],
          env: { ...env, FK_EVENT_ID: event.id, FK_EVENT_TYPE: event.type, FK_EVENT_USER: event.user },
        });
        running.add(child);
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, cfg.timeoutMs);
        child.on('error', (err) => {
          clearTimeout(timer);
          running.delete(child);
          reject(fail((err as NodeJS.ErrnoException).code ?? 'could not start', err));
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          running.delete(child);
          if (timedOut) reject(fail(`killed after ${cfg.timeoutMs} ms`));
          else if (code === 0) resolve();
          else reject(fail(code === null ? `killed by ${signal ?? 'a signal'}` : `exited with ${code}`));
        });
        // A hook may exit without reading its stdin: EPIPE is not a failure by itself.
        child.stdin.on('error', () => undefined);
        child.stdin.end(body);
      });
    },
    async close() {
      for (const c of running) c.kill('SIGKILL');
    },
  };
}
