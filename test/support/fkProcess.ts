import { spawn, type ChildProcess } from 'node:child_process';
import { waitUntil } from './webhookReceiver';

/** A long-running `fk` process (mirror, daemon): its JSON log lines (stderr) and stdout lines, kept as they come. */
export interface FkProcess {
  readonly child: ChildProcess;
  readonly logs: Array<Record<string, unknown>>;
  readonly out: string[];
  readonly exited: Promise<number | null>;
  /** Waits for a log line with this message (and `pred`); the process exiting first fails. */
  logged(
    msg: string,
    pred?: (l: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGTERM, then waits for the exit (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  };
}

export function startFk(cli: string, args: readonly string[], env: NodeJS.ProcessEnv): FkProcess {
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  const out: string[] = [];
  child.stdout?.setEncoding('utf8');
  child.stdout?.on(
    'data',
    lineSplitter((l) => out.push(l)),
  );
  child.stderr?.setEncoding('utf8');
  child.stderr?.on(
    'data',
    lineSplitter((l) => {
      try {
        logs.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        logs.push({ msg: l });
      }
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    logs,
    out,
    exited,
    async logged(msg, pred = () => true, timeoutMs = 60_000) {
      const find = (): Record<string, unknown> | undefined => logs.find((l) => l.msg === msg && pred(l));
      await waitUntil(() => find() !== undefined || !running(), `log '${msg}'`, timeoutMs);
      const found = find();
      if (found === undefined) {
        const last = JSON.stringify(logs.slice(-5));
        throw new Error(`fk ${args.join(' ')} exited (${String(child.exitCode)}) before '${msg}': ${last}`);
      }
      return found;
    },
    async stop() {
      if (!running()) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
