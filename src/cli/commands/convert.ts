import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { convertHistory } from '../../tools/convert';
import {
  assertLogId,
  encryptedFormatOf,
  findSodiumHeader,
  formatSodiumHeader,
  type Cipher,
  type CipherFormat,
} from '../../core/crypto';
import { CryptoError, InputError } from '../../core/errors';
import { createHistoryCipher } from '../../app/historyCipher';
import type { KeyCacheOptions } from '../../app/keyCache';
import { assertOutputAllowed, writeOutputFile, type OutputTarget } from '../outputFile';
import { requirePassphrase, type PromptInput } from '../../app/passphrase';

/** What the commands touch outside their arguments; tests replace it, `fk` uses the process's. */
export interface ConvertDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: PromptInput;
  /** Key cache directory override; default: the XDG cache (see keyCache.ts). */
  readonly keyCacheDir?: string;
}

interface CommonFlags {
  in: string;
  out: string;
  passphraseFile?: string;
  force?: boolean;
  keyCache: boolean;
}
interface EncryptFlags extends CommonFlags {
  format: CipherFormat;
  logId?: string;
}

/**
 * `fk encrypt` and `fk decrypt`: convert a whole history file between plain and encrypted forms.
 * The input is never modified; the output is written to a temp file (mode 0600) and renamed into
 * place, and an existing output is replaced only with `--force`.
 */
export function register(program: Command, deps: Partial<ConvertDeps> = {}): void {
  const d: ConvertDeps = {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    ...deps,
  };
  const common = (cmd: Command): Command =>
    cmd
      .requiredOption('--in <file>', 'history to read (never modified)')
      .requiredOption('--out <file>', 'file to write')
      .option(
        '--passphrase-file <path>',
        'read the passphrase from the first line of this file (else FK_PASSPHRASE, FK_PASSPHRASE_FILE or a prompt)',
      )
      .option('--force', 'replace an existing output file')
      .option('--no-key-cache', 'derive the key without reading or writing the key cache');

  common(
    program
      .command('encrypt')
      .description('encrypt a plain history (Fernet: Flowkeeper-compatible; sodium: for broker backends)'),
  )
    .addOption(new Option('--format <format>', 'envelope format').choices(['fernet', 'sodium']).default('fernet'))
    .option('--log-id <id>', 'log id of a sodium history (default: a random UUID)')
    .action((flags: EncryptFlags) => runEncrypt(flags, d));

  common(program.command('decrypt').description('decrypt a Fernet or sodium history into a plain one')).action(
    (flags: CommonFlags) => runDecrypt(flags, d),
  );
}

async function runEncrypt(flags: EncryptFlags, d: ConvertDeps): Promise<void> {
  const { lines, trailingNewline } = splitLines(await readInput(flags.in));
  await assertOutputAllowed(outputOf(flags));
  const already = lines.findIndex((l) => encryptedFormatOf(l) !== null || findSodiumHeader([l]) !== null);
  if (already >= 0)
    throw new InputError(
      'FK_INPUT_INVALID',
      `line ${already + 1}: '${flags.in}' is already encrypted, decrypt it first`,
    );
  if (flags.format !== 'sodium' && flags.logId !== undefined)
    throw new InputError('FK_INPUT_INVALID', '--log-id applies to --format sodium only');
  const passphrase = await requirePassphrase(passphraseSources(flags, d), `to encrypt '${flags.in}'`);
  const cache = cacheOptions(flags, d);
  let cipher: Cipher;
  let header: string | undefined;
  if (flags.format === 'fernet') {
    cipher = await createHistoryCipher(passphrase, { format: 'fernet' }, cache);
  } else {
    const logId = flags.logId ?? randomUUID();
    assertLogId(logId);
    const salt = new Uint8Array(randomBytes(16));
    header = formatSodiumHeader({ logId, salt });
    cipher = await createHistoryCipher(passphrase, { format: 'sodium', salt, logId }, cache);
  }
  const result = convertHistory(lines, { encrypt: cipher, ...(header === undefined ? {} : { header }) });
  await writeOutputFile(outputOf(flags), joinLines(result.lines, trailingNewline));
  d.stdout.write(`encrypted ${result.records} records from '${flags.in}' to '${flags.out}' (${flags.format})\n`);
}

async function runDecrypt(flags: CommonFlags, d: ConvertDeps): Promise<void> {
  const { lines, trailingNewline } = splitLines(await readInput(flags.in));
  await assertOutputAllowed(outputOf(flags));
  const formats = new Set(lines.map(encryptedFormatOf).filter((f): f is CipherFormat => f !== null));
  if (formats.size === 0) throw new InputError('FK_INPUT_INVALID', `'${flags.in}' holds no encrypted records`);
  const found = findSodiumHeader(lines);
  if (formats.has('sodium') && found === null) {
    throw new CryptoError('FK_KEY_INVALID', `'${flags.in}' holds sodium records but no '# fk-sodium' header line`);
  }
  const passphrase = await requirePassphrase(passphraseSources(flags, d), `to decrypt '${flags.in}'`);
  const cache = cacheOptions(flags, d);
  const decrypt: Partial<Record<CipherFormat, Cipher>> = {};
  if (formats.has('fernet')) decrypt.fernet = await createHistoryCipher(passphrase, { format: 'fernet' }, cache);
  if (found !== null) {
    const { logId, salt } = found.header;
    decrypt.sodium = await createHistoryCipher(passphrase, { format: 'sodium', salt, logId }, cache);
  }
  const result = convertHistory(lines, { decrypt, requireEncrypted: true });
  await writeOutputFile(outputOf(flags), joinLines(result.lines, trailingNewline));
  d.stdout.write(`decrypted ${result.records} records from '${flags.in}' to '${flags.out}'\n`);
}

function passphraseSources(flags: CommonFlags, d: ConvertDeps): Parameters<typeof requirePassphrase>[0] {
  return { passphraseFile: flags.passphraseFile, env: d.env, input: d.stdin, output: d.stderr };
}

function cacheOptions(flags: CommonFlags, d: ConvertDeps): KeyCacheOptions {
  return { env: d.env, disabled: !flags.keyCache, ...(d.keyCacheDir === undefined ? {} : { cacheDir: d.keyCacheDir }) };
}

async function readInput(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      'FK_INPUT_INVALID',
      `input file '${path}' ${code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? 'error'})`}`,
      {
        cause: err,
      },
    );
  }
}

/** Lines without terminators (CRLF is read as LF) and whether the text ended with a newline. */
function splitLines(text: string): { lines: string[]; trailingNewline: boolean } {
  if (text === '') return { lines: [], trailingNewline: false };
  const lines = text.split(/\r?\n/);
  const trailingNewline = lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  return { lines, trailingNewline };
}

/** The output of a conversion: never the input, replaced only with --force. */
function outputOf(flags: CommonFlags): OutputTarget {
  return { path: flags.out, force: flags.force, inputs: [flags.in] };
}

function joinLines(lines: readonly string[], trailingNewline: boolean): string {
  return lines.length === 0 ? '' : lines.join('\n') + (trailingNewline ? '\n' : '');
}
