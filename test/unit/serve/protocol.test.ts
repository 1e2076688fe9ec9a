import { describeLine, errorLine, parseParams, readInbound, serverLine } from '../../../src/serve/protocol';

const T = 1_780_000_000_123_456;

describe('serve protocol', () => {
  it('reads the control messages the client sends, parameters unescaped', () => {
    expect(
      readInbound(
        '1, 2026-11-30 09:00:00.123456+00:00, admin@local.host: Authenticate("a@b.org", "basic|p\\"w\\\\", "true")',
      ),
    ).toEqual({
      kind: 'control',
      name: 'Authenticate',
      seq: 1,
      params: ['a@b.org', 'basic|p"w\\', 'true'],
    });
    expect(readInbound('2, 2026-11-30 09:00:00+00:00, admin@local.host: Replay("17", "")\r')).toMatchObject({
      kind: 'control',
      name: 'Replay',
      params: ['17', ''],
    });
  });

  it('reads the header of a plaintext record, and a Fernet line as opaque', () => {
    expect(readInbound('5, 2026-11-30 09:00:00+00:00, jürgen@example.org: CreateBacklog("b1", "Today")')).toEqual({
      kind: 'record',
      encrypted: false,
      seq: 5,
      user: 'jürgen@example.org',
      name: 'CreateBacklog',
    });
    expect(readInbound('+gAAAAABrDXDfKJlgtyfQenD4aHOGPZ_-x==')).toEqual({ kind: 'record', encrypted: true });
    expect(readInbound('')).toEqual({ kind: 'empty' });
    expect(readInbound('# a comment')).toEqual({ kind: 'empty' });
  });

  it('refuses what no reader could use, without quoting the line', () => {
    const cases: Array<[string, RegExp]> = [
      ['+not base64!', /malformed encrypted line/],
      ['!1 1 a@b.org AAAA', /bad syntax/],
      ['0, 2026-11-30 09:00:00+00:00, a@b.org: CreateBacklog("b1", "x")', /bad syntax/],
      ['1, 2026-11-30T09:00:00Z, a@b.org: CreateBacklog("b1", "x")', /bad syntax/],
      ['1, 2026-11-30 09:00:00+00:00, a@localhost: CreateBacklog("b1", "x")', /bad syntax/],
      ['3, 2026-11-30 09:00:00+00:00, a@b.org: Frobnicate("x", "")', /unknown strategy Frobnicate/],
      ['3, 2026-11-30 09:00:00+00:00, a@b.org: Pong("x", "")', /sent by the server only/],
      ['3, 2026-11-30 09:00:00+00:00, a@b.org: Ping("x", "y)', /bad parameters/],
    ];
    for (const [line, reason] of cases) {
      const r = readInbound(line);
      expect(r.kind).toBe('invalid');
      expect(r).toMatchObject({ reason: expect.stringMatching(reason) as string });
    }
  });

  it('writes server lines as the client parses them: admin user, at least two parameters, seq from 1', () => {
    expect(serverLine(0, T, 'ReplayCompleted', [])).toBe(
      '1, 2026-05-28 20:26:40.123456+00:00, admin@local.host: ReplayCompleted("", "")',
    );
    expect(serverLine(4, T, 'Pong', ['u1'])).toBe(
      '4, 2026-05-28 20:26:40.123456+00:00, admin@local.host: Pong("u1", "")',
    );
    expect(errorLine(7, T, 409, 'a "quoted" \\ message')).toBe(
      '7, 2026-05-28 20:26:40.123456+00:00, admin@local.host: Error("409", "a \\"quoted\\" \\\\ message")',
    );
    expect(readInbound(serverLine(2, T, 'Ping', ['x']))).toMatchObject({
      kind: 'control',
      name: 'Ping',
      params: ['x', ''],
    });
  });

  it('parses parameter lists like the client, and describes lines for logs without their content', () => {
    expect(parseParams('')).toEqual([]);
    expect(parseParams(' "a" ,  "b\\\\" ')).toEqual(['a', 'b\\']);
    expect(parseParams('"a" "b"')).toBeNull();
    expect(describeLine('5, 2026-11-30 09:00:00+00:00, a@b.org: RenameBacklog("b1", "Secret name")')).toEqual({
      seq: 5,
      name: 'RenameBacklog',
    });
    expect(JSON.stringify(describeLine('+gAAAAAB' + 'x'.repeat(100)))).not.toContain('gAAAA');
  });
});
