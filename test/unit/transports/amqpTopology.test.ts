import { escapeRegex, historyTopology, isValidHistoryName } from '../../../src/transports/amqp/topology';

describe('amqp topology', () => {
  it('names the exchange and the stream queue of a history after it', () => {
    expect(historyTopology('alice')).toEqual({
      history: 'alice',
      exchange: 'fk.history.alice',
      exchangeType: 'fanout',
      queue: 'fk.history.alice',
      routingKey: '',
      queueArguments: { 'x-queue-type': 'stream' },
      permissionPattern: '^fk\\.history\\.alice$',
    });
  });

  it('adds x-max-age only when retention is asked for', () => {
    expect(historyTopology('alice', '30D').queueArguments).toEqual({ 'x-queue-type': 'stream', 'x-max-age': '30D' });
    expect(historyTopology('alice').queueArguments).not.toHaveProperty('x-max-age');
  });

  it('escapes e-mail style names in the permission pattern so it matches only that history', () => {
    const { permissionPattern, queue } = historyTopology('bob+work@example.com');
    expect(permissionPattern).toBe('^fk\\.history\\.bob\\+work@example\\.com$');
    const re = new RegExp(permissionPattern);
    expect(re.test(queue)).toBe(true);
    expect(re.test('fk.history.bob+work@example.com2')).toBe(false);
    expect(re.test('fk.history.bobbwork@exampleXcom')).toBe(false);
    expect(re.test('fk.history.alice')).toBe(false);
  });

  it('keeps one history from matching another one with a longer name', () => {
    const re = new RegExp(historyTopology('al').permissionPattern);
    expect(re.test('fk.history.alice')).toBe(false);
  });

  it.each(['alice', 'a', 'Alice_01', 'bob@example.com', 'x.y-z+w', 'a'.repeat(128)])(
    'accepts history name %p',
    (name) => {
      expect(isValidHistoryName(name)).toBe(true);
    },
  );

  it.each(['', '.alice', '-a', 'al ice', 'a/b', 'a*', 'ä', 'a'.repeat(129), 'a\nb'])(
    'rejects history name %p',
    (name) => {
      expect(isValidHistoryName(name)).toBe(false);
    },
  );

  it('escapes every regex metacharacter', () => {
    const nasty = '.*+?^${}()|[]\\';
    expect(new RegExp(`^${escapeRegex(nasty)}$`).test(nasty)).toBe(true);
  });
});
