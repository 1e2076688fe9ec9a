import { escapeControl, escapeJsonControl } from '../../../src/app/terminalText';

describe('terminal text', () => {
  it('makes escape sequences, carriage returns and bidi overrides visible, keeping tabs, newlines and other text', () => {
    expect(escapeControl('a\x1b]0;pwned\x07b\r\x9b2J\u202eé\t日本\n')).toBe(
      'a\\x1b]0;pwned\\x07b\\x0d\\x9b2J\\u202eé\t日本\n',
    );
  });

  it('escapes the same characters in JSON so that a reader decodes the original string', () => {
    const value = { name: 'x\x1b[2J\x7f\x9b\u202ey' };
    const json = escapeJsonControl(JSON.stringify(value));
    expect(json).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});
