/**
 * Python's own readings of text, which Flowkeeper applies to history parameters: `str.strip()`,
 * `int(text)` and `float(text)`. Each accepts more than the obvious form (surrounding Unicode
 * whitespace, a `+` sign, `_` between digits, any Unicode decimal digit, `inf`/`nan`), and a
 * history that uses those forms must replay the same here.
 */

/** Python's whitespace (`str.isspace`, the `\s` of its `re`): JS `\s` lacks 0x1C-0x1F and 0x85, adds U+FEFF. */
export const PY_SPACE_CLASS =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const SPACE_RE = new RegExp(`^[${PY_SPACE_CLASS}]+|[${PY_SPACE_CLASS}]+$`, 'g');
/** `int()` and `float()` strip the same whitespace, except 0x1C-0x1F (checked against Python 3.11). */
const NUMBER_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const NUMBER_SPACE_RE = new RegExp(`^[${NUMBER_SPACE}]+|[${NUMBER_SPACE}]+$`, 'g');

/** Python `str.strip()` without arguments. */
export function pyStrip(text: string): string {
  return text.replace(SPACE_RE, '');
}

/*
 * The Unicode patterns are built on first use: V8 reads a pattern with `\p{…}` classes (ICU's
 * character tables) when it is constructed, and the ASCII numbers of most histories need none.
 */
let digitRe: RegExp | undefined;
let intRe: RegExp | undefined;
let floatRe: RegExp | undefined;
const DIGITS = '\\p{Nd}(?:_?\\p{Nd})*';
const digitRE = (): RegExp => (digitRe ??= /\p{Nd}/u);
const intRE = (): RegExp => (intRe ??= /^[+-]?\p{Nd}(?:_?\p{Nd})*$/u);
const floatRE = (): RegExp =>
  (floatRe ??= new RegExp(`^[+-]?(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.?)(?:[eE][+-]?${DIGITS})?$`, 'u'));
const ASCII_INT_RE = /^[0-9]{1,15}$/;
const ASCII_DECIMAL_RE = /^[0-9]{1,15}(?:\.[0-9]{1,15})?$/;
const SPECIAL_RE = /^([+-]?)(inf|infinity|nan)$/i;

/** Unicode decimal digits come in runs of ten (0-9), so a digit's value is its place in its run. */
function digitValue(cp: number): number {
  if (cp >= 48 && cp <= 57) return cp - 48;
  let k = 0;
  while (digitRE().test(String.fromCodePoint(cp - k - 1))) k++;
  return k % 10;
}

/** Digits to ASCII, underscores dropped: what `int`/`float` read once the syntax is accepted. */
function asciiNumber(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '_') continue;
    const cp = ch.codePointAt(0) as number;
    out += cp > 127 && digitRE().test(ch) ? String(digitValue(cp)) : ch;
  }
  return out;
}

/**
 * Python `int(text)`, or null where Python raises `ValueError`. Values beyond 2^53 lose
 * precision here (Python keeps them exact); callers cap or clamp what they accept.
 */
export function pyInt(text: string): number | null {
  if (ASCII_INT_RE.test(text)) return Number(text);
  const t = text.replace(NUMBER_SPACE_RE, '');
  if (!intRE().test(t)) return null;
  const v = Number(asciiNumber(t));
  return v === 0 ? 0 : v; // Python integers have no -0
}

/** Python `float(text)`, or null where Python raises `ValueError`. */
export function pyFloat(text: string): number | null {
  if (ASCII_DECIMAL_RE.test(text)) return Number(text);
  const t = text.replace(NUMBER_SPACE_RE, '');
  const special = SPECIAL_RE.exec(t);
  if (special) {
    if ((special[2] as string).toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!floatRE().test(t)) return null;
  return Number(asciiNumber(t));
}

/** Python's `repr(float)` digits for the canonical dump: integral values as integers, else shortest round trip. */
export function pyNumberJson(x: number): string {
  if (Number.isInteger(x)) return Object.is(x, -0) ? '0' : BigInt(x).toString();
  const js = String(x);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(js);
  if (!m) return js;
  const [, sign, int, frac = '', exp = '0'] = m as unknown as [string, string, string, string?, string?];
  // value = 0.DIGITS × 10^decpt, as CPython's float_repr_style 'short' counts it
  const digits = (int + frac).replace(/^0+/, '');
  const lead = (int + frac).length - digits.length;
  const decpt = int.length + Number(exp) - lead;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  const e = decpt - 1;
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}
