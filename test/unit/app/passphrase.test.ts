import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { requirePassphrase, resolvePassphrase, type PromptInput } from '../../../src/app/passphrase';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fk-pass-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const notTty = (): PromptInput => new PassThrough();

/** A stand-in terminal at the process boundary: records raw-mode switches and what was echoed. */
function fakeTty(): { input: PromptInput & PassThrough; output: PassThrough; echoed: () => string; raw: boolean[] } {
  const raw: boolean[] = [];
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (r: boolean) => raw.push(r) });
  const output = new PassThrough();
  let echoed = '';
  output.on('data', (c: Buffer) => (echoed += c.toString()));
  return { input, output, echoed: () => echoed, raw };
}

describe('passphrase sources', () => {
  it('takes FK_PASSPHRASE from the environment', async () => {
    expect(await resolvePassphrase({ env: { FK_PASSPHRASE: 'from env' }, input: notTty() })).toBe('from env');
  });

  it('takes the first line of --passphrase-file, before the environment', async () => {
    const file = join(dir, 'pass');
    writeFileSync(file, 'from file\r\nsecond line\n');
    expect(await resolvePassphrase({ passphraseFile: file, env: { FK_PASSPHRASE: 'from env' } })).toBe('from file');
  });

  it('takes FK_PASSPHRASE_FILE when FK_PASSPHRASE is unset', async () => {
    const file = join(dir, 'pass');
    writeFileSync(file, 'spaces kept  \n');
    expect(await resolvePassphrase({ env: { FK_PASSPHRASE_FILE: file }, input: notTty() })).toBe('spaces kept  ');
  });

  it('warns, as ssh does, about a passphrase file other users can read, and not about a private one', async () => {
    const file = join(dir, 'pass-open');
    writeFileSync(file, 'secret\n');
    chmodSync(file, 0o644);
    const warnings: string[] = [];
    expect(await resolvePassphrase({ passphraseFile: file, warn: (m) => warnings.push(m) })).toBe('secret');
    expect(warnings).toEqual([
      `passphrase file '${file}' (--passphrase-file) is accessible by other users (mode 0644): run chmod 600 '${file}'`,
    ]);
    await resolvePassphrase({ passphraseFile: file, warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1); // once per file and process
    const closed = join(dir, 'pass-closed');
    writeFileSync(closed, 'secret\n', { mode: 0o600 });
    await resolvePassphrase({ env: { FK_PASSPHRASE_FILE: closed }, warn: (m) => warnings.push(m), input: notTty() });
    expect(warnings).toHaveLength(1);
  });

  it('names a missing or empty passphrase file', async () => {
    const missing = join(dir, 'nope');
    await expect(resolvePassphrase({ passphraseFile: missing })).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
      message: `passphrase file '${missing}' (--passphrase-file) not found`,
    });
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\nsecret on line two\n');
    await expect(resolvePassphrase({ passphraseFile: empty })).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
      message: `passphrase file '${empty}' (--passphrase-file) is empty`,
    });
  });

  it('returns null without a source, and requirePassphrase says which sources exist', async () => {
    expect(await resolvePassphrase({ env: {}, input: notTty() })).toBeNull();
    await expect(requirePassphrase({ env: {}, input: notTty() }, "to decrypt 'h.txt'")).rejects.toMatchObject({
      code: 'FK_INPUT_INVALID',
      message: expect.stringContaining("a passphrase is needed to decrypt 'h.txt': set FK_PASSPHRASE") as unknown,
    });
  });

  it('prompts on a terminal in raw mode without echoing, honouring backspace', async () => {
    const tty = fakeTty();
    const answer = resolvePassphrase({ env: {}, input: tty.input, output: tty.output });
    tty.input.write('hunter22\u007f\r');
    expect(await answer).toBe('hunter2');
    expect(tty.raw).toEqual([true, false]);
    expect(tty.echoed()).toBe('Passphrase: \n');
  });

  it('treats Ctrl-C at the prompt as a cancelled input', async () => {
    const tty = fakeTty();
    const answer = resolvePassphrase({ env: {}, input: tty.input, output: tty.output });
    tty.input.write('abc\u0003');
    await expect(answer).rejects.toMatchObject({ code: 'FK_INPUT_INVALID', message: 'passphrase prompt cancelled' });
  });
});
