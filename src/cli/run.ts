import type { Command } from 'commander';
import { DomainError, FkError, InputError } from '../core/errors';
import type { Logger } from '../core/logger';
import { ADMIN_USER, type Backlog, type Category, type User, type Workitem } from '../core/engine/model';
import type { ReplayState } from '../core/engine/replay';
import { loadConfig, type Config } from '../app/config';
import { createLogger } from '../app/logger';
import { openSession, type Session } from '../app/session';
import { escapeControl, escapeJsonControl } from '../app/terminalText';
import { writeOut } from './stdout';

/** Global flags every command inherits (see main.ts). */
export interface GlobalFlags {
  readonly backend?: string;
  readonly file?: string;
  readonly user?: string;
  readonly logLevel?: string;
  readonly encryption?: string;
  readonly passphraseFile?: string;
  readonly config?: string;
  readonly json?: boolean;
  readonly create?: boolean;
  readonly readOnly?: boolean;
}

/** What the commands read of their commander `Command` (the quick `fk status` passes its own). */
export type CommandLike = Pick<Command, 'optsWithGlobals' | 'name'>;

export function configFrom(cmd: CommandLike): Config {
  const g = cmd.optsWithGlobals<GlobalFlags>();
  return loadConfig({
    backend: g.backend,
    file: g.file,
    user: g.user,
    logLevel: g.logLevel,
    encryption: g.encryption,
    passphraseFile: g.passphraseFile,
    config: g.config,
    create: g.create,
    readOnly: g.readOnly,
  });
}

/** Opens the configured backend, runs `fn`, and always closes. */
export async function withSession<T>(
  cmd: Command,
  fn: (s: Session, config: Config, logger: Logger) => Promise<T>,
): Promise<T> {
  const config = configFrom(cmd);
  const logger = createLogger(config.logLevel, { cmd: cmd.name() });
  const session = await openSession(config, logger);
  try {
    return await fn(session, config, logger);
  } finally {
    await session.close();
  }
}

/**
 * `withSession` for a command that only reads: never writes to the backend (read permission is
 * enough), and a broker history nobody wrote yet comes to `fn` as `null` instead of an error.
 */
export async function withReadSession<T>(
  cmd: CommandLike,
  fn: (s: Session | null, config: Config, logger: Logger) => Promise<T>,
): Promise<T> {
  const config = { ...configFrom(cmd), readOnly: true };
  const logger = createLogger(config.logLevel, { cmd: cmd.name() });
  let session: Session;
  try {
    // it reads once and closes: no file watch for what other processes append meanwhile
    session = await openSession(config, logger, { follow: false });
  } catch (err) {
    if (err instanceof DomainError && err.code === 'FK_NOT_FOUND' && err.details?.queue !== undefined) {
      return fn(null, config, logger);
    }
    throw err;
  }
  try {
    return await fn(session, config, logger);
  } finally {
    await session.close();
  }
}

/** The configured user, created (as Flowkeeper does for a new data file) when the history lacks it. */
export async function ensureUser(session: Session, config: Config): Promise<User> {
  const state = session.client.state;
  let user = state.tenant.users.get(config.user);
  if (user === undefined) {
    if (config.user === ADMIN_USER)
      throw new InputError('FK_INPUT_INVALID', `'${ADMIN_USER}' is the system user; choose another --user`);
    try {
      await session.client.execute('CreateUser', [config.user, config.user.split('@')[0] ?? config.user], {
        user: ADMIN_USER,
      });
    } catch (err) {
      // Another process created the same user a moment ago: that is what we wanted.
      if (!(err instanceof FkError && err.code === 'FK_ALREADY_EXISTS')) throw err;
    }
    user = state.tenant.users.get(config.user);
  }
  if (user === undefined) throw new DomainError('FK_NOT_FOUND', `user '${config.user}' not found`);
  return user;
}

export function userOf(state: ReplayState, config: Config): User {
  const u = state.tenant.users.get(config.user);
  if (u === undefined)
    throw new DomainError('FK_NOT_FOUND', `user '${config.user}' not found in the history (use --user)`);
  return u;
}

function resolve<T extends { uid: string; name: string }>(what: string, items: Iterable<T>, ref: string): T {
  // An empty reference is a prefix of every name: it must never pick one.
  if (ref.trim() === '') throw new InputError('FK_INPUT_INVALID', `${what} reference must not be empty`);
  const all = [...items];
  const exact = all.find((x) => x.uid === ref);
  if (exact) return exact;
  // the first rule with exactly one match wins; the most specific rule with several is ambiguous
  const lower = ref.toLowerCase();
  const rules: ReadonlyArray<(x: T) => boolean> = [
    (x) => x.name === ref,
    (x) => ref.length >= 4 && x.uid.startsWith(ref),
    (x) => x.name.toLowerCase().startsWith(lower),
  ];
  let ambiguous: T[] = [];
  for (const rule of rules) {
    const matches = all.filter(rule);
    if (matches.length === 1) return matches[0] as T;
    if (matches.length > 1 && ambiguous.length === 0) ambiguous = matches;
  }
  if (ambiguous.length > 1) {
    throw new InputError(
      'FK_INPUT_INVALID',
      `${what} '${ref}' is ambiguous: ${ambiguous
        .slice(0, 5)
        .map((m) => `${m.uid} (${m.name})`)
        .join(', ')}`,
    );
  }
  throw new DomainError(
    'FK_NOT_FOUND',
    `${what} '${ref}' not found (give its uid, a unique uid prefix of 4+ characters, or its name or the start of it)`,
  );
}

export function resolveBacklog(user: User, ref: string): Backlog {
  return resolve('backlog', user.backlogs.values(), ref);
}

export function resolveWorkitem(user: User, ref: string): Workitem {
  return resolve('workitem', user.workitems.values(), ref);
}

/** A category of the user (the root `#root` included), by uid, unique uid prefix or name. */
export function resolveCategory(user: User, ref: string): Category {
  return resolve('category', user.categories.values(), ref);
}

/**
 * The index Flowkeeper's Reorder* strategies take for an item now at `from` (0-based) to end up
 * at `to` (0-based): moving down, it counts the item's own place, which the list loses first.
 */
export function reorderIndex(from: number, to: number): number {
  return to > from ? to + 1 : to;
}

/** A 1-based position in a list of `size` items (`fk … reorder`), as a 0-based index. */
export function positionArg(text: string, size: number, what: string): number {
  return positiveInt(text, `${what} position`, Math.max(1, size)) - 1;
}

/** The longest duration the CLI accepts (a pomodoro, a rest, an interruption): one day. */
export const MAX_DURATION_SECONDS = 24 * 3600;
/** The largest count the CLI accepts (pomodoros added or removed at once). */
export const MAX_COUNT = 1000;

/** `25m`, `90s`, `1h`, `1500` (seconds) → seconds, at most {@link MAX_DURATION_SECONDS}. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(h|m|min|s)?$/.exec(text.trim());
  if (!m)
    throw new InputError(
      'FK_INPUT_INVALID',
      `option '${option}' must be a duration like 25m, 90s, 1h or 1500, got '${text}'`,
    );
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const seconds = unit === 'h' ? n * 3600 : unit === 's' ? n : n * 60;
  if (!(seconds <= MAX_DURATION_SECONDS))
    throw new InputError('FK_INPUT_INVALID', `option '${option}' must be at most 24h, got '${text}'`);
  return seconds;
}

/**
 * A commander argument parser for names (backlog, workitem, category, …) and uids: refuses an
 * empty or blank value, which Flowkeeper's own forms never let through.
 */
export function nameArg(what: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new InputError('FK_INPUT_INVALID', `${what} must not be empty`);
    return value;
  };
}

/** A count from 1 to `max` (default {@link MAX_COUNT}): a huge count would exhaust memory. */
export function positiveInt(text: string, what: string, max: number = MAX_COUNT): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new InputError('FK_INPUT_INVALID', `${what} must be a positive integer, got '${text}'`);
  if (Number(text) > max) throw new InputError('FK_INPUT_INVALID', `${what} must be at most ${max}, got '${text}'`);
  return Number(text);
}

/** Prints command output; control characters from history data are made visible (see terminalText.ts). */
export function print(line: string): void {
  writeOut(`${escapeControl(line)}\n`);
}

export function printJson(v: unknown): void {
  writeOut(`${escapeJsonControl(JSON.stringify(v, null, 2))}\n`);
}
