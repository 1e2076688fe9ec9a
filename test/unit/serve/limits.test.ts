import { createAuthLimiter } from '../../../src/serve/authLimiter';
import { DEFAULT_LIMITS, resolveLimits } from '../../../src/serve/limits';
import { Command } from 'commander';
import { limitsFromOptions, parseListen, register } from '../../../src/cli/commands/serve';

describe('sign-in rate limiting', () => {
  it('blocks an address after its failures in the window, and lets it in again once they age out', () => {
    let now = 0;
    const l = createAuthLimiter({ perAddress: 3, perAccount: 100, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(l.blocked('10.0.0.1', `u${i}@x.org`)).toBeNull();
      l.failed('10.0.0.1', `u${i}@x.org`);
      now += 1000;
    }
    expect(l.blocked('10.0.0.1', 'other@x.org')).toBe(57); // now 3 s; the oldest failure (0 s) ages out at 60 s
    expect(l.blocked('10.0.0.2', 'other@x.org')).toBeNull();
    now = 60_001;
    expect(l.blocked('10.0.0.1', 'other@x.org')).toBeNull();
  });

  it('blocks an account attacked from many addresses; its own sign-in clears only the account', () => {
    const now = 0;
    const l = createAuthLimiter({ perAddress: 100, perAccount: 2, windowMs: 60_000, now: () => now });
    l.failed('10.0.0.1', 'carol@x.org');
    l.failed('10.0.0.2', 'carol@x.org');
    expect(l.blocked('10.0.0.3', 'carol@x.org')).not.toBeNull();
    l.succeeded('10.0.0.9', 'carol@x.org');
    expect(l.blocked('10.0.0.3', 'carol@x.org')).toBeNull();
    expect(l.size).toBe(2); // the two addresses
  });
});

describe('serve limits and --listen', () => {
  it('takes flags in seconds and integers, and names a bad one', () => {
    expect(resolveLimits({})).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({ idleTimeoutMs: '1.5', maxConnections: '7' })).toMatchObject({
      idleTimeoutMs: 1500,
      maxConnections: 7,
    });
    expect(() => resolveLimits({ maxLineBytes: '1e3x' })).toThrow(
      "--max-line-bytes must be a positive integer, got '1e3x'",
    );
    expect(() => resolveLimits({ authTimeoutMs: '0' })).toThrow(/--auth-timeout must be a positive number of seconds/);
  });

  it('every limit flag reaches its limit through commander (seconds on the command line)', () => {
    const program = new Command();
    register(program);
    const run = program.commands.find((c) => c.name() === 'serve')?.commands.find((c) => c.name() === 'run') as Command;
    run.parseOptions([
      ...[
        '--max-line-bytes',
        '100',
        '--max-connections',
        '2',
        '--max-connections-per-account',
        '3',
        '--auth-timeout',
        '4',
      ],
      ...['--idle-timeout', '5', '--ping-interval', '6', '--max-buffered-bytes', '7', '--max-queued-lines', '8'],
      ...[
        '--auth-failures-per-address',
        '9',
        '--auth-failures-per-account',
        '10',
        '--auth-window',
        '11',
        '--linger',
        '0.5',
      ],
    ]);
    expect(limitsFromOptions(run.opts())).toEqual({
      maxLineBytes: 100,
      maxConnections: 2,
      maxConnectionsPerAccount: 3,
      authTimeoutMs: 4000,
      idleTimeoutMs: 5000,
      pingIntervalMs: 6000,
      maxBufferedBytes: 7,
      maxQueuedLines: 8,
      authFailuresPerAddress: 9,
      authFailuresPerAccount: 10,
      authWindowMs: 11_000,
      lingerMs: 500,
    });
  });

  it('parses host:port', () => {
    expect(parseListen('127.0.0.1:8888')).toEqual({ host: '127.0.0.1', port: 8888 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(() => parseListen('localhost')).toThrow(/--listen must be host:port/);
    expect(() => parseListen('h:70000')).toThrow(/--listen/);
  });
});
