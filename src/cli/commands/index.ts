import type { Command } from 'commander';

/**
 * Every `fk` subcommand lives in its own file under `commands/` and exports `register(program)`.
 * Adding a command = one file + one line here, naming every command (and alias) it registers:
 * `fk <name>` loads only that file (and what it imports), so `fk status` never loads the daemon,
 * the broker clients or the history tools. A unit test checks the names against what each file
 * registers.
 */
export type RegisterCommand = (program: Command) => void;

export interface CommandModule {
  /** The top-level commands and aliases the module registers. */
  readonly names: readonly string[];
  readonly load: () => Promise<RegisterCommand>;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['status'], load: async () => (await import('./status')).register },
  { names: ['backlog'], load: async () => (await import('./backlog')).register },
  { names: ['workitem', 'wi'], load: async () => (await import('./workitem')).register },
  { names: ['pomodoro'], load: async () => (await import('./pomodoro')).register },
  { names: ['start', 'stop', 'void', 'interrupt'], load: async () => (await import('./timerCommands')).register },
  { names: ['state'], load: async () => (await import('./state')).register },
  { names: ['check'], load: async () => (await import('./check')).register },
  { names: ['encrypt', 'decrypt'], load: async () => (await import('./convert')).register },
  { names: ['daemon'], load: async () => (await import('./daemon')).register },
  { names: ['export'], load: async () => (await import('./export')).register },
  { names: ['import'], load: async () => (await import('./import')).register },
  { names: ['stats'], load: async () => (await import('./stats')).register },
  { names: ['migrate'], load: async () => (await import('./migrate')).register },
  { names: ['mirror'], load: async () => (await import('./mirror')).register },
  { names: ['category'], load: async () => (await import('./category')).register },
  { names: ['log', 'today'], load: async () => (await import('./log')).register },
  { names: ['user'], load: async () => (await import('./user')).register },
  { names: ['wait'], load: async () => (await import('./wait')).register },
  { names: ['serve'], load: async () => (await import('./serve')).register },
];

/** The modules to load for `fk <name>`: its own, or all of them (help, an unknown name). */
export function commandModulesFor(name: string | undefined): readonly CommandModule[] {
  const one = name === undefined ? undefined : COMMAND_MODULES.find((m) => m.names.includes(name));
  return one ? [one] : COMMAND_MODULES;
}
