import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';

/** Host and port of an `xmpp://host:port` service URL. */
export function hostPort(service: string): { host: string; port: number } {
  const m = /^xmpps?:\/\/([^:/]+)(?::(\d+))?/.exec(service);
  if (!m) throw new Error(`not an xmpp:// service: ${service}`);
  return { host: m[1] as string, port: Number(m[2] ?? 5222) };
}

/**
 * Creates an account through in-band registration (XEP-0077) over a raw stream: every test or bench log
 * is a fresh account, i.e. a fresh, empty archive. Needs `allow_registration` on the server
 * (scripts/prosody.sh enables it for the loopback test server).
 */
export async function registerXmppAccount(
  service: string,
  domain: string,
  prefix = 'fk',
): Promise<{ username: string; password: string }> {
  const username = `${prefix}-${randomUUID().slice(0, 12)}`;
  const password = `pw-${randomUUID()}`;
  const { host, port } = hostPort(service);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = '';
    let sent = false;
    const timer = setTimeout(() => fail(new Error(`in-band registration at ${service} timed out`)), 10_000);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.end('</stream:stream>');
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const fail = (err: Error): void => done(err);
    socket.setEncoding('utf8');
    socket.on('error', fail);
    socket.on('connect', () => {
      socket.write(
        `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' ` +
          `xmlns:stream='http://etherx.jabber.org/streams'>`,
      );
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (!sent && buffer.includes('</stream:features>')) {
        sent = true;
        socket.write(
          `<iq type='set' id='reg1'><query ` +
            `xmlns='jabber:iq:register'><username>${username}</username><password>${password}</password></query></iq>`,
        );
      }
      const reply = /<iq[^>]*\bid=['"]reg1['"][^>]*>/.exec(buffer);
      if (reply) {
        if (/\btype=['"]result['"]/.test(reply[0])) done();
        else
          fail(
            new Error(`in-band registration of '${username}' refused: ${buffer.slice(reply.index, reply.index + 300)}`),
          );
      }
    });
  });
  return { username, password };
}
