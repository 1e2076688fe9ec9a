/**
 * Broker endpoint resolution for the integration tier (STYLE §9.4):
 * 1. FK_TEST_AMQP_URL / FK_TEST_XMPP_SERVICE (+ domain, credentials) when set (scripts/test.sh sets
 *    them after starting the local servers);
 * 2. otherwise, where a Docker engine exists, testcontainers started in globalSetup export them;
 * 3. otherwise CI (CI=true) fails loudly naming the missing broker, and a local run skips the suite
 *    with one clear reason. A missing broker never looks like a pass.
 */
export interface AmqpEndpoint {
  readonly url: string;
}

export interface XmppEndpoint {
  readonly service: string;
  readonly domain: string;
}

function missing(what: string, variable: string): never | null {
  const msg = `${what} is not reachable: set ${variable} (npm test starts a local one)`;
  if (process.env.CI === 'true') throw new Error(msg);
  // eslint-disable-next-line no-console
  console.warn(`skipping: ${msg}`);
  return null;
}

export function amqpEndpoint(): AmqpEndpoint | null {
  const url = process.env.FK_TEST_AMQP_URL;
  return url ? { url } : missing('RabbitMQ', 'FK_TEST_AMQP_URL');
}

export function xmppEndpoint(): XmppEndpoint | null {
  const service = process.env.FK_TEST_XMPP_SERVICE;
  const domain = process.env.FK_TEST_XMPP_DOMAIN ?? 'localhost';
  return service ? { service, domain } : missing('XMPP server', 'FK_TEST_XMPP_SERVICE');
}

/** `describe` when the endpoint exists, else one skipped describe that says why. */
export function describeWith<T>(endpoint: T | null, name: string, body: (e: T) => void): void {
  if (endpoint === null) describe.skip(`${name} (broker not available)`, () => it.todo('needs a broker'));
  else describe(name, () => body(endpoint));
}
