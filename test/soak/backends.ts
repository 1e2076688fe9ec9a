import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyName } from '../../src/app/historyName';
import { amqpFrameWatcher } from '../support/amqpFrames';
import { deleteHistories } from '../support/amqpStreams';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy';
import { hostPort, registerXmppAccount } from '../support/xmppAccounts';
import { xmppRecordWatcher } from '../support/xmppWatch';

export type BackendKind = 'amqp' | 'xmpp' | 'file';

/** One history the soak writes: how its processes reach it (through the fault proxy) and how the final reader does. */
export interface SoakBackend {
  readonly kind: BackendKind;
  readonly user: string;
  /** Global `fk` options for the soak's writers and daemon (through the fault proxy for brokers). */
  readonly args: readonly string[];
  /** Global `fk` options for the daemon: through a proxy of its own, so it can be cut off alone. */
  readonly daemonArgs: readonly string[];
  /** Global `fk` options for the final reader: straight to the broker, never through the proxy. */
  readonly directArgs: readonly string[];
  /** Secrets and settings every process needs (passwords, passphrase). */
  readonly env: Readonly<Record<string, string>>;
  readonly proxy: FaultProxy | null;
  readonly daemonProxy: FaultProxy | null;
  /** Watcher events that mark a record being published (up) and being confirmed (down). */
  readonly cutEvents: { readonly publish: string; readonly confirm: string } | null;
  /** Where the history lives, for the report (no secrets). */
  readonly where: string;
  cleanup(): Promise<void>;
}

const PASSPHRASE = 'soak: nothing acknowledged is ever lost';

/** A fresh identity with a dotted domain (Flowkeeper's grammar wants one: not `x@localhost`). */
const freshUser = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}@soak.example.org`;

export async function openBackend(kind: BackendKind): Promise<SoakBackend> {
  if (kind === 'amqp') return amqpBackend();
  if (kind === 'xmpp') return xmppBackend();
  return fileBackend();
}

async function amqpBackend(): Promise<SoakBackend> {
  const url = process.env.FK_SOAK_AMQP_URL ?? process.env.FK_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const u = new URL(url);
  const proxy = await startFaultProxy(u.hostname, Number(u.port || 5672), { watch: amqpFrameWatcher });
  const daemonProxy = await startFaultProxy(u.hostname, Number(u.port || 5672));
  const user = freshUser('soak');
  const vhost = u.pathname === '' ? '/' : u.pathname;
  const at = (host: string): string => `amqp://${u.username}@${host}${vhost}`;
  return {
    kind: 'amqp',
    user,
    args: ['--backend', at(`127.0.0.1:${proxy.port}`), '--user', user],
    daemonArgs: ['--backend', at(`127.0.0.1:${daemonProxy.port}`), '--user', user],
    directArgs: ['--backend', at(u.host), '--user', user],
    env: { FK_AMQP_PASSWORD: decodeURIComponent(u.password), FK_PASSPHRASE: PASSPHRASE },
    proxy,
    daemonProxy,
    cutEvents: { publish: 'basic.publish', confirm: 'basic.ack' },
    where: `${at(u.host)} history '${historyName(user)}'`,
    async cleanup() {
      await proxy.close();
      await daemonProxy.close();
      await deleteHistories(url, [historyName(user)]);
    },
  };
}

async function xmppBackend(): Promise<SoakBackend> {
  const service = process.env.FK_TEST_XMPP_SERVICE ?? 'xmpp://127.0.0.1:5222';
  const domain = process.env.FK_TEST_XMPP_DOMAIN ?? 'localhost';
  const account = await registerXmppAccount(service, domain, 'fksoak');
  const { host, port } = hostPort(service);
  const proxy = await startFaultProxy(host, port, { watch: xmppRecordWatcher });
  const daemonProxy = await startFaultProxy(host, port);
  const at = (p: number, h: string): string => `xmpp://${account.username}@${domain}:${p}?service=xmpp://${h}:${p}`;
  // The identity is not the account's JID (…@localhost has no dotted domain): any identity works.
  const user = freshUser(account.username);
  return {
    kind: 'xmpp',
    user,
    args: ['--backend', at(proxy.port, '127.0.0.1'), '--user', user],
    daemonArgs: ['--backend', at(daemonProxy.port, '127.0.0.1'), '--user', user],
    directArgs: ['--backend', at(port, host), '--user', user],
    env: { FK_XMPP_PASSWORD: account.password, FK_PASSPHRASE: PASSPHRASE },
    proxy,
    daemonProxy,
    cutEvents: { publish: 'record.publish', confirm: 'record.echo' },
    where: `xmpp account ${account.username}@${domain} at ${service}`,
    async cleanup() {
      await proxy.close();
      await daemonProxy.close();
    },
  };
}

function fileBackend(): SoakBackend {
  const dir = mkdtempSync(join(tmpdir(), 'fk-soak-file-'));
  const file = join(dir, 'flowkeeper-data.txt');
  const user = freshUser('soak');
  return {
    kind: 'file',
    user,
    args: ['--file', file, '--user', user],
    daemonArgs: ['--file', file, '--user', user],
    directArgs: ['--file', file, '--user', user],
    env: {},
    proxy: null,
    daemonProxy: null,
    cutEvents: null,
    where: file,
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
