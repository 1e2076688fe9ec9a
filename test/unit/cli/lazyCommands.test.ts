import { Command } from 'commander';
import { COMMAND_MODULES, commandModulesFor } from '../../../src/cli/commands';
import { buildProgram, commandName } from '../../../src/cli/program';

/** `fk <name>` loads only the module of that command: its table must name what each module registers. */
describe('lazy command table', () => {
  it('names exactly the commands and aliases each module registers', async () => {
    for (const m of COMMAND_MODULES) {
      const program = new Command('fk');
      (await m.load())(program);
      const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
      expect(registered.sort()).toEqual([...m.names].sort());
    }
  });

  it('gives every name to one module only', () => {
    const names = COMMAND_MODULES.flatMap((m) => m.names);
    expect(new Set(names).size).toBe(names.length);
  });

  it('loads every module for help or an unknown name', () => {
    expect(commandModulesFor(undefined)).toBe(COMMAND_MODULES);
    expect(commandModulesFor('help')).toBe(COMMAND_MODULES);
    expect(commandModulesFor('wi').map((m) => m.names[0])).toEqual(['workitem']);
  });
});

describe('commandName', () => {
  const argv = (...args: string[]): string[] => ['node', 'fk', ...args];

  it('skips global options and their values, in both spellings', async () => {
    const program = await buildProgram(argv('status'));
    expect(commandName(program, argv('status', '--json'))).toBe('status');
    expect(commandName(program, argv('--file', 'status', 'backlog', 'list'))).toBe('backlog');
    expect(commandName(program, argv('--file=x.txt', '--debug', 'wi', 'list'))).toBe('wi');
    expect(commandName(program, argv('--log-level', 'debug', '--user', 'a@b', 'state', 'h.txt'))).toBe('state');
    expect(commandName(program, argv('--', 'status'))).toBe('status');
    expect(commandName(program, argv('--help'))).toBeUndefined();
    expect(commandName(program, argv())).toBeUndefined();
  });

  it('builds a program with that command only, all of them for help, none for --version', async () => {
    expect((await buildProgram(argv('--file', 'x', 'start', 'wi-1'))).commands.map((c) => c.name()).sort()).toEqual(
      ['interrupt', 'start', 'stop', 'void'],
    );
    const all = COMMAND_MODULES.flatMap((m) => m.names).filter((n) => n !== 'wi');
    expect((await buildProgram(argv('--help'))).commands.map((c) => c.name()).sort()).toEqual(all.sort());
    expect((await buildProgram(argv('--version'))).commands).toEqual([]);
  });
});
