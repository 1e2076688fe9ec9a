import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FK, ROOT } from './cli';
import { sharedDir } from './shared';

/**
 * Flowkeeper's real WebSocket client, unmodified, driven headless by `../shared/realclient/fkclient.py`
 * (GPL test harness, next to the repository as in CI: never copied into the project). It needs
 * Debian's python3 with PySide2 and python3-cryptography (`scripts/realclient-deps.sh`, which
 * `.ci/run` calls through `scripts/services.sh`).
 */
export const FKCLIENT = process.env.FK_TEST_FKCLIENT ?? join(sharedDir(ROOT), 'realclient', 'fkclient.py');
export const PYTHON = process.env.FK_TEST_PYTHON ?? '/usr/bin/python3';

let checked: string | null | undefined;

/** Null when the real client can run here, else why not (naming what to install). */
export function realClientMissing(): string | null {
  if (checked !== undefined) return checked;
  if (!existsSync(FKCLIENT)) checked = `the real client harness ${FKCLIENT} is missing`;
  else if (!existsSync(PYTHON)) checked = `${PYTHON} is missing (Debian's python3: the apt packages install there)`;
  else {
    const probe = spawnSync(PYTHON, ['-c', 'import PySide2.QtWebSockets, PySide2.QtWidgets, cryptography'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    checked =
      probe.status === 0
        ? null
        : 'python3-pyside2.* or python3-cryptography is not installed: run bash scripts/realclient-deps.sh ' +
          `(apt-get install python3-pyside2.qtwebsockets …): ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  }
  return checked;
}

/**
 * `describe` when the real client can run; otherwise a local run skips with the reason, and CI
 * (`CI=true`) fails: a missing client never looks like a pass.
 */
export function describeWithRealClient(name: string, body: () => void): void {
  const missing = realClientMissing();
  if (missing === null) return describe(name, body);
  if (process.env.CI === 'true') {
    describe(name, () =>
      it('needs the real Flowkeeper client', () => {
        throw new Error(missing);
      }),
    );
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`skipping '${name}': ${missing}`);
  describe.skip(`${name} (real client missing: ${missing})`, () => it.todo('needs the real Flowkeeper client'));
}

export type Step = Record<string, unknown>;

export interface StepResult {
  readonly step: number;
  readonly op: string;
  readonly ok: boolean;
  readonly last_seq: number;
  readonly sent?: string[];
  readonly server_error?: { code: string; message: string; seq: number; line: string };
  readonly notes?: unknown[];
  readonly error?: string;
  readonly [key: string]: unknown;
}

export interface ClientRun {
  readonly code: number | null;
  readonly steps: StepResult[];
  readonly stderr: string;
}

export interface ClientOptions {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly e2eKey?: string;
  /** Default timeout of each step, seconds (generous: the machine may be loaded). */
  readonly timeout?: number;
  /** Where `dump` paths are written. */
  readonly cwd: string;
  readonly extraArgs?: readonly string[];
}

/** Starts one real client on a script; `done` resolves when it exited, `onStep` sees each step as it ends. */
export function startClient(
  opts: ClientOptions,
  script: readonly Step[],
  onStep?: (s: StepResult) => void,
): { done: Promise<ClientRun>; child: ChildProcess } {
  const args = [
    FKCLIENT,
    '--url',
    opts.url,
    '--user',
    opts.user,
    '--password',
    opts.password,
    '--timeout',
    String(opts.timeout ?? 60),
  ];
  if (opts.e2eKey !== undefined) args.push('--e2e-key', opts.e2eKey);
  args.push(...(opts.extraArgs ?? []), '-');
  const child = spawn(PYTHON, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let seen = 0;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const lines = out.split('\n').filter((l) => l.startsWith('{'));
    const complete = out.endsWith('\n') ? lines : lines.slice(0, -1);
    for (; seen < complete.length; seen++) onStep?.(JSON.parse(complete[seen] as string) as StepResult);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.end(JSON.stringify(script));
  const done = new Promise<ClientRun>((resolve) => {
    child.on('close', (code) => {
      const steps = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as StepResult);
      resolve({ code, steps, stderr: err });
    });
  });
  return { done, child };
}

export function runClient(opts: ClientOptions, script: readonly Step[]): Promise<ClientRun> {
  return startClient(opts, script).done;
}

/** Throws with the client's output unless it exited 0. */
export function expectOk(run: ClientRun): ClientRun {
  if (run.code !== 0) {
    throw new Error(
      `fkclient exited ` +
        `${String(run.code)}:\n${run.steps.map((s) => JSON.stringify(s)).join('\n')}\n${run.stderr.slice(-2000)}`,
    );
  }
  return run;
}

/** A running `fk serve` (the built CLI), with the address it listens on. */
export interface ServeProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly log: () => string;
  stop(): Promise<void>;
}

/** Starts `fk serve --backend <backend>` on `port` (0: any free port) and waits until it listens. */
export function startServe(
  backend: string,
  opts: { port?: number; args?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<ServeProcess> {
  const args = [
    FK,
    'serve',
    '--backend',
    backend,
    '--listen',
    `127.0.0.1:${opts.port ?? 0}`,
    '--log-level',
    'info',
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  let started = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`fk serve did not start in 60 s:\n${log}`)), 60_000);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.on('exit', (code) => fail(new Error(`fk serve exited ${String(code)}:\n${log}`)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      const m = started ? null : /fk serve: listening on (ws:\/\/127\.0\.0\.1:(\d+)\/ws)/.exec(log);
      if (!m) return;
      started = true;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: m[1] as string,
        port: Number(m[2]),
        child,
        log: () => log,
        stop: () =>
          new Promise<void>((done, failStop) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const killer = setTimeout(() => {
              child.kill('SIGKILL');
              failStop(new Error(`fk serve did not stop within 20 s of SIGTERM:\n${log.slice(-3000)}`));
            }, 20_000);
            child.once('exit', () => {
              clearTimeout(killer);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
