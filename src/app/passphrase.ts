// fs.promises is loaded on first use (a getter): most commands never read a passphrase file.
import { promises as fsp } from 'node:fs';
import { InputError } from '../core/errors';

/**
 * Where the E2E passphrase comes from, first match wins:
 *
 * 1. `--passphrase-file PATH` (first line of the file, line ending stripped)
 * 2. `FK_PASSPHRASE` (environment)
 * 3. `FK_PASSPHRASE_FILE` (environment; same rules as the flag)
 * 4. an interactive prompt, without echo, when stdin is a terminal
 *
 * Never a plain command-line value: flags show up in `ps` (STYLE §7). A passphrase file that
 * other users may read or write is used, with a warning (as ssh warns about a key file).
 */
export interface PassphraseSources {
  /** Value of `--passphrase-file`, if given. */
  readonly passphraseFile?: string | undefined;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Terminal to prompt on; prompting happens only when `input.isTTY`. @default process.stdin */
  readonly input?: PromptInput;
  /** Where the prompt is written. @default process.stderr (stdout is for command output) */
  readonly output?: NodeJS.WritableStream;
  /** @default 'Passphrase: ' */
  readonly prompt?: string;
  /** Where warnings go (a passphrase file others can read). @default `fk: warning: …` on stderr */
  readonly warn?: (message: string) => void;
}

/** The part of a TTY read stream the prompt uses; `process.stdin` satisfies it. */
export interface PromptInput extends NodeJS.ReadableStream {
  readonly isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
}

/** The passphrase from the first available source, or null when there is none. */
export async function resolvePassphrase(sources: PassphraseSources = {}): Promise<string | null> {
  const env = sources.env ?? process.env;
  const warn = sources.warn ?? ((m: string) => process.stderr.write(`fk: warning: ${m}\n`));
  if (sources.passphraseFile !== undefined)
    return readPassphraseFile(sources.passphraseFile, '--passphrase-file', warn);
  const fromEnv = env['FK_PASSPHRASE'];
  if (fromEnv) return fromEnv;
  const envFile = env['FK_PASSPHRASE_FILE'];
  if (envFile) return readPassphraseFile(envFile, 'FK_PASSPHRASE_FILE', warn);
  const input = sources.input ?? process.stdin;
  if (input.isTTY && input.setRawMode) {
    return promptHidden(input, sources.output ?? process.stderr, sources.prompt ?? 'Passphrase: ');
  }
  return null;
}

/**
 * Like {@link resolvePassphrase}, but throws `InputError FK_INPUT_INVALID` naming the sources when
 * none is available; `purpose` says what needs it (`'to decrypt 'history.txt''`).
 */
export async function requirePassphrase(
  sources: PassphraseSources = {},
  purpose = 'for encrypted history',
): Promise<string> {
  const passphrase = await resolvePassphrase(sources);
  if (passphrase === null) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `a passphrase is needed ${purpose}: set FK_PASSPHRASE or FK_PASSPHRASE_FILE, pass --passphrase-file, or run ` +
        `on a terminal`,
    );
  }
  return passphrase;
}

/** Files already warned about: one warning per file and process. */
const warned = new Set<string>();

async function readPassphraseFile(path: string, source: string, warn: (message: string) => void): Promise<string> {
  let text: string;
  try {
    const st = await fsp.stat(path);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0 && !warned.has(path)) {
      warned.add(path);
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      warn(
        `passphrase file '${path}' (${source}) is accessible by other users (mode ${mode}): run chmod 600 '${path}'`,
      );
    }
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? 'error'})`;
    throw new InputError('FK_INPUT_INVALID', `passphrase file '${path}' (${source}) ${what}`, { cause: err });
  }
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  if (first === '') throw new InputError('FK_INPUT_INVALID', `passphrase file '${path}' (${source}) is empty`);
  return first;
}

/** Reads one line in raw mode so nothing is echoed. Enter ends it, Ctrl-C cancels, Backspace and Ctrl-U edit. */
function promptHidden(input: PromptInput, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
    };
    const onEnd = (): void => {
      finish();
      reject(new InputError('FK_INPUT_INVALID', 'passphrase prompt: input closed'));
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          if (value === '') reject(new InputError('FK_INPUT_INVALID', 'passphrase prompt: empty passphrase'));
          else resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new InputError('FK_INPUT_INVALID', 'passphrase prompt cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        else if (ch >= ' ') value += ch;
      }
    };
    output.write(prompt);
    input.setRawMode?.(true);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}
