import type { Command } from 'commander';
import { escapeControl } from '../app/terminalText';
import { InputError } from '../core/errors';

/** Options that would carry a secret on the command line, where every user sees it (`ps`). */
const SECRET_OPTIONS = new Set(['--passphrase', '--password', '--key', '--secret']);

const SECRET_HINT =
  'a secret on the command line is visible to every user of the machine (ps): ' +
  'use FK_PASSPHRASE, FK_PASSPHRASE_FILE or --passphrase-file';

/**
 * Rewrites an error commander is about to print into the `fk: <what>` form, without ever echoing
 * an option's value: `unknown option '--x=VALUE'` shows only `--x=…`, and an option that would
 * carry a secret (`--passphrase`) is answered with where the secret goes instead. Control
 * characters are escaped like every other message.
 */
export function commanderErrorText(text: string): string {
  let s = text.replace(/^error: /, '');
  const unknown = /^unknown option '(-[^'=]*)(=?)/.exec(s);
  if (unknown !== null) {
    const flag = unknown[1] as string;
    if (SECRET_OPTIONS.has(flag)) return `fk: option '${flag}' is not accepted: ${SECRET_HINT}\n`;
    if (unknown[2] === '=') s = s.replace(/^unknown option '[^\n]*'/, `unknown option '${flag}=…'`);
  }
  return `fk: ${escapeControl(s)}`;
}

/** The one line `fk` prints for an error it reports (control characters escaped). */
export function errorLine(message: string): string {
  return `fk: ${escapeControl(message)}\n`;
}

/**
 * Refuses control characters (a line break, an escape) in any argument or option value: a history
 * line cannot hold a line break, and nothing fk takes on its command line needs one. Run before
 * every action (main.ts registers it as commander's `preAction` hook).
 */
export function refuseControlCharacters(_program: Command, action: Command): void {
  const values: Array<[string, unknown]> = [
    ...action.args.map((a, i): [string, unknown] => [`argument ${i + 1}`, a]),
    ...Object.entries(action.optsWithGlobals()).map(([k, v]): [string, unknown] => [
      `option '--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}'`,
      v,
    ]),
  ];
  for (const [where, v] of values) {
    const bad = typeof v === 'string' ? /[\x00-\x1f\x7f]/.exec(v) : null;
    if (bad !== null) {
      const code = `\\x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')}`;
      throw new InputError(
        'FK_INPUT_INVALID',
        `${where} contains a control character (${code}): names and texts are single lines`,
      );
    }
  }
}
