import { historyName } from '../../../src/app/historyName';
import { isValidHistoryName } from '../../../src/transports/amqp/topology';

/** Test-side inverse of the mapping (for names that were not shortened): proves it is injective. */
function decode(name: string): string {
  const body = /^0_(?![0-9a-f]{2})/.test(name) ? name.slice(2) : name;
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '_') {
      const hex = body.slice(i + 1, i + 3);
      expect(hex).toMatch(/^[0-9a-f]{2}$/);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(body.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

describe('historyName (fk user → AMQP history name)', () => {
  it.each([
    ['user@local.host', 'user@local.host'],
    ['bob+work@example.com', 'bob+work@example.com'],
    ['Alice-2', 'Alice-2'],
    ['john_doe', 'john_5fdoe'],
    ['a b', 'a_20b'],
    ['élise', '0__c3_a9lise'],
    ['x/y', 'x_2fy'],
    ['.hidden', '0__2ehidden'],
    ['_x', '0__5fx'],
    ['@host', '0__40host'],
    ['-', '0__2d'],
    ['+', '0__2b'],
    ['', '0_'],
  ])('maps %j to %j', (user, name) => {
    expect(historyName(user)).toBe(name);
    expect(isValidHistoryName(name)).toBe(true);
    expect(decode(name)).toBe(user);
  });

  it('keeps names apart that the old mapping merged (a+b, a b, a_b, a_5fb)', () => {
    const users = ['a+b', 'a b', 'a_b', 'a_5fb', 'a__b', '0_5fb', '0__5fb', '_5fb', '0', '0_', '_'];
    const names = users.map(historyName);
    expect(new Set(names).size).toBe(users.length);
    for (const n of names) expect(isValidHistoryName(n)).toBe(true);
  });

  it('gives valid, distinct names for many random identities, and decodes back', () => {
    const alphabet = ['a', 'Z', '0', '9', '.', '_', '@', '+', '-', ' ', '/', 'é', '€', '😀', '#', '%', '\\'];
    let seed = 42;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const seen = new Map<string, string>();
    const wrong: string[] = []; // one expect at the end: thousands of jest expects cost seconds
    for (let i = 0; i < 5_000; i++) {
      const len = next() % 12;
      let user = '';
      for (let j = 0; j < len; j++) user += alphabet[next() % alphabet.length];
      const name = historyName(user);
      if (!isValidHistoryName(name)) wrong.push(`invalid name '${name}' for '${user}'`);
      const other = seen.get(name);
      if (other !== undefined && other !== user) wrong.push(`'${other}' and '${user}' both map to '${name}'`);
      seen.set(name, user);
      if (!/_h[0-9a-f]{32}$/.test(name) && decode(name) !== user) wrong.push(`'${name}' decodes to '${decode(name)}'`);
    }
    expect(wrong).toEqual([]);
    expect(seen.size).toBeGreaterThan(2_000); // the generator repeats itself: about 2,100 distinct users
  });

  it('shortens over-long results with a hash suffix, still valid and distinct', () => {
    const a = historyName(`${'x'.repeat(200)}a`);
    const b = historyName(`${'x'.repeat(200)}b`);
    const c = historyName('é'.repeat(30)); // 180 characters escaped
    for (const n of [a, b, c]) {
      expect(n).toHaveLength(128);
      expect(isValidHistoryName(n)).toBe(true);
      expect(n).toMatch(/_h[0-9a-f]{32}$/);
    }
    expect(a).not.toBe(b);
    expect(historyName('x'.repeat(128))).toBe('x'.repeat(128));
  });
});
