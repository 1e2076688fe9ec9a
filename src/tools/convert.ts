import {
  assertEncryptedLine,
  encryptedFormatOf,
  parseRecordBinding,
  parseSodiumHeader,
  type Cipher,
  type CipherFormat,
} from '../core/crypto';
import { decryptFailed } from '../core/crypto/cryptoErrors';
import { InputError, ParseError } from '../core/errors';

/** Options of {@link convertHistory}. */
export interface ConvertOptions {
  /**
   * Ciphers that read the input's encrypted records, by format. An encrypted record of a format
   * without a cipher fails with `FK_DECRYPT_FAILED`.
   * @default {} (the input must be plain)
   */
  readonly decrypt?: Partial<Record<CipherFormat, Cipher>>;
  /**
   * Cipher the output records are written with.
   * @default none: the output is plain
   */
  readonly encrypt?: Cipher;
  /**
   * Line written first, before everything else: the `# fk-sodium` header the sodium output needs
   * (see `formatSodiumHeader`). Required when `encrypt` is a sodium cipher.
   * @default none
   */
  readonly header?: string;
  /**
   * Fail with `FK_DECRYPT_FAILED` on a plaintext record in the input, e.g. when decrypting a
   * history that is supposed to be encrypted (an injected plaintext record must not slip through).
   * @default false
   */
  readonly requireEncrypted?: boolean;
}

/** What {@link convertHistory} produced. */
export interface ConvertResult {
  /** The converted history, one physical line per entry. */
  readonly lines: readonly string[];
  /** How many records were converted (comments, blank lines and headers excluded). */
  readonly records: number;
}

/**
 * Converts a whole history (its physical lines, without line terminators) between plain, Fernet
 * and sodium forms. Pure: no I/O, the caller reads and writes the files.
 *
 * - records are decrypted (if encrypted) and then encrypted with `encrypt` (if given), each bound
 *   to its own seq and user;
 * - comments and blank lines are kept as they are, in place; an input `# fk-sodium` header is
 *   dropped, and `header` (if given) becomes the first line.
 *
 * Round trips are byte for byte: `convert(convert(plain, {encrypt}), {decrypt})` gives back `plain`.
 *
 * @example
 * const { lines } = convertHistory(plain, { encrypt: createFernetCipher(key) });
 */
export function convertHistory(input: readonly string[], opts: ConvertOptions = {}): ConvertResult {
  if (opts.encrypt?.format === 'sodium' && opts.header === undefined) {
    throw new InputError('FK_INPUT_INVALID', 'sodium output needs its fk-sodium header line');
  }
  const out: string[] = opts.header === undefined ? [] : [opts.header];
  let records = 0;
  input.forEach((line, i) => {
    const lineNumber = i + 1;
    if (line.trim() === '' || line.startsWith('#')) {
      if (parseSodiumHeader(line, lineNumber) === null) out.push(line);
      return;
    }
    const format = encryptedFormatOf(line);
    if (format === null && opts.requireEncrypted) assertEncryptedLine(line, 'fernet', lineNumber);
    let plain = line;
    if (format !== null) {
      const cipher = opts.decrypt?.[format];
      if (cipher === undefined) throw decryptFailed({ lineNumber }, `${format} record but no ${format} key was given`);
      plain = cipher.decryptLine(line, { lineNumber });
    }
    records += 1;
    if (opts.encrypt === undefined) {
      out.push(plain);
      return;
    }
    const binding = parseRecordBinding(plain);
    if (binding === null) {
      throw new ParseError(
        'FK_PARSE_FAILED',
        `line ${lineNumber}: not a history record, cannot bind it to a seq and user`,
        {
          lineNumber,
        },
      );
    }
    out.push(opts.encrypt.encryptLine(plain, binding));
  });
  return { lines: out, records };
}
