import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { historyName } from '../../src/app/historyName';
import { deleteHistories } from '../support/amqpStreams';
import { amqpEndpoint, describeWith } from '../support/brokers';
import { FK, assertBuilt, sandbox } from '../support/cli';
import { runNode } from '../support/hang';
import { makeTlsFiles, startTlsProxy, type TlsFiles, type TlsProxy } from '../support/tlsProxy';

const CLI = process.env.FK_TEST_CLI ?? FK;
jest.setTimeout(120_000);

const fkLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('fk: '));

describeWith(amqpEndpoint(), 'fk on amqps://: CA and client certificates from the config', ({ url }) => {
  const base = new URL(url);
  const target = { host: base.hostname, port: Number(base.port || 5672) };
  const histories: string[] = [];
  const sb = sandbox();
  let files: TlsFiles;
  let open: TlsProxy;
  let mutual: TlsProxy;

  beforeAll(async () => {
    if (process.env.FK_TEST_CLI === undefined) assertBuilt();
    files = makeTlsFiles();
    open = await startTlsProxy(files, target, false);
    mutual = await startTlsProxy(files, target, true);
  }, 120_000);
  afterAll(async () => {
    await open.close();
    await mutual.close();
    files.cleanup();
    await deleteHistories(url, histories);
    sb.cleanup();
  }, 60_000);

  const fk = (port: number, env: NodeJS.ProcessEnv, ...args: string[]) => {
    const user = `fk-tls-${randomUUID().slice(0, 8)}@example.org`;
    histories.push(historyName(user));
    const backend = `amqps://${base.username}:${base.password}@localhost:${port}/`;
    return runNode(CLI, ['--backend', backend, '--user', user, ...args], {
      ...sb.env,
      FK_PASSPHRASE: 'tls',
      FK_ENCRYPTION: 'off',
      ...env,
    });
  };

  it('trusts a private CA given as FK_AMQP_CA_FILE, and says what to set without it', async () => {
    const ok = await fk(open.port, { FK_AMQP_CA_FILE: files.caFile }, 'backlog', 'create', 'over TLS');
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    const untrusted = await fk(open.port, {}, 'status');
    expect(untrusted.code).toBe(4);
    expect(fkLines(untrusted.stderr)).toEqual([
      `fk: amqp connect to localhost:${open.port}/ failed: the broker's TLS certificate is not trusted ` +
        `(SELF_SIGNED_CERT_IN_CHAIN): set the CA certificate (amqp.caFile or FK_AMQP_CA_FILE) or check the host name`,
    ]);
  });

  it('presents the client certificate of amqp.certFile/keyFile (config file) when the broker asks for one', async () => {
    const config = `${sb.dir}/tls-config.json`;
    writeFileSync(
      config,
      JSON.stringify({ amqp: { caFile: files.caFile, certFile: files.clientCertFile, keyFile: files.clientKeyFile } }),
    );
    const ok = await fk(mutual.port, { FK_CONFIG: config }, 'backlog', 'create', 'mutual TLS');
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    const without = await fk(mutual.port, { FK_AMQP_CA_FILE: files.caFile }, 'status');
    expect(without.code).toBe(4);
    expect(fkLines(without.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^fk: amqp connect to localhost:${mutual.port}/ failed: TLS handshake refused \\(.+\\): the broker may ` +
            `require a client certificate \\(amqp\\.certFile and amqp\\.keyFile\\)$`,
        ),
      ),
    ]);
  });
});
