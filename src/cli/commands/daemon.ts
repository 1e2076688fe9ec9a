import type { Command } from 'commander';
import { createLogger } from '../../app/logger';
import { configFrom, print, printJson, type GlobalFlags } from '../run';
import { onShutdown } from '../../daemon/lifecycle';
import { resolveDaemonConfig, resolveDaemonHttp, type DaemonFlags } from '../../daemon/options';
import { createDaemon } from '../../daemon/runtime';
import { fetchDaemonStatus, formatDaemonStatus } from '../../daemon/statusClient';

interface RunOptions {
  name?: string;
  stateDir?: string;
  http?: string;
  late?: string;
  stdout?: boolean;
  webhook?: string;
  events?: string;
}

function daemonConfigFrom(cmd: Command, opts: RunOptions) {
  const g = cmd.optsWithGlobals<GlobalFlags & RunOptions>();
  const flags: DaemonFlags = {
    ...opts,
    logLevel: g.logLevel,
    sessionFlags: g.backend !== undefined || g.file !== undefined || g.user !== undefined,
  };
  return resolveDaemonConfig(configFrom(cmd), flags);
}

/** `fk daemon` (= `fk daemon run`): the headless timer; `fk daemon status [url]` asks a running one. */
export function register(program: Command): void {
  const daemon = program
    .command('daemon')
    .description('run the timer headless and forward notifications (see docs/daemon.md)');

  daemon
    .command('run', { isDefault: true })
    .description('keep the histories live, ring the timer at its planned instants, forward events (default)')
    .option('--name <name>', 'daemon name: state directory and daemon events (env FK_DAEMON_NAME, default "default")')
    .option(
      '--state-dir <dir>',
      'outbox and checkpoints (env FK_DAEMON_STATE_DIR, default $XDG_STATE_HOME/flowkeeper-headless/daemon/<name>)',
    )
    .option('--http <host:port>', "local endpoint, or 'off' (env FK_DAEMON_HTTP, default 127.0.0.1:8787)")
    .option(
      '--late <policy>',
      "transitions that happened while no daemon ran: 'drop' (apply silently) " +
        "or 'send' (marked late) (env FK_DAEMON_LATE)",
    )
    .option('--stdout', 'add a JSON-lines target on stdout (env FK_DAEMON_STDOUT=1)')
    .option(
      '--webhook <url>',
      'add a webhook target; signing secret from env FK_DAEMON_WEBHOOK_SECRET (env FK_DAEMON_WEBHOOK_URL)',
    )
    .option(
      '--events <list>',
      'event filter of the targets given by flags, e.g. "work.*,rest.finished" (env FK_DAEMON_EVENTS)',
    )
    .action(async (opts: RunOptions, cmd: Command) => {
      const config = daemonConfigFrom(cmd, opts);
      const logger = createLogger(config.logLevel, { cmd: 'daemon' });
      const shutdown = onShutdown();
      const d = createDaemon({ config, logger });
      try {
        const started = d.start().then(() => 'started' as const);
        const first = await Promise.race([started, shutdown.requested]);
        if (first === 'started') logger.info({ http: d.http }, 'daemon ready');
        const signal = await shutdown.requested;
        logger.info({ signal }, 'shutdown requested');
        started.catch(() => undefined);
      } catch (err) {
        logger.fatal({ err }, 'daemon failed to start');
        throw err;
      } finally {
        await d.stop(); // bounded by shutdownTimeoutMs, even when a connection hangs while closing
        shutdown.dispose();
      }
      // Everything is closed or given up on; a handle left open (a connection that never finished
      // closing) must not keep a stopped daemon alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
    });

  daemon
    .command('status')
    .description('ask a running daemon what runs now (instead of opening the backend)')
    .argument('[url]', 'the daemon endpoint (default: the configured daemon.http, http://127.0.0.1:8787)')
    .option('--json', 'print the raw /status JSON')
    .action(async (url: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      let base = url;
      if (base === undefined) {
        const http = resolveDaemonHttp(configFrom(cmd), {}) ?? { host: '127.0.0.1', port: 8787 };
        base = `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${http.port}`;
      }
      const status = await fetchDaemonStatus(base);
      if (opts.json) printJson(status);
      else formatDaemonStatus(status).forEach((l) => print(l));
    });
}
