import type { Micros } from '../../src/core/clock';
import { FkError, hasLinePosition } from '../../src/core/errors';
import { replay, type ReplayMode, type ReplayState } from '../../src/core/engine/replay';
import { parseInstant } from '../../src/core/engine/time';
import type { Tag, User } from '../../src/core/engine/model';

/**
 * A small Flowkeeper history written line by line, for given/when/then tests of the rules the
 * reference (`../shared/oracle`) showed. Each line is a real history line (any user, any
 * timestamp text), replayed whole through `replay()`, as `fk state` does:
 *
 *   const given = story().line('CreateBacklog', 'b1', 'Today');
 *   const then = given.by(ADMIN).line('CreateUser', 'x@y.org', 'X').error();   // when
 *   expect(then.lineNumber).toBe(3);
 *
 * Lines are one minute apart from 2026-06-10 10:00 UTC (after the CreateUser of ALICE that
 * every story starts with) unless `at()` moves the clock; `stamp()` writes a timestamp verbatim.
 */
export const ADMIN = 'admin@local.host';
export const ALICE = 'alice@example.org';
export const NOW = '2030-01-01T00:00:00Z';

const MIN = 60_000_000;

function historyTime(t: Micros): string {
  const d = new Date(Math.floor(t / 1000));
  const us = String(t % 1_000_000).padStart(6, '0');
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}${us === '000000' ? '' : `.${us}`}+00:00`;
}

const quote = (p: string): string => `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export class Story {
  private constructor(
    readonly lines: readonly string[],
    private readonly t: Micros,
    private readonly user: string,
    private readonly stampText: string | null,
  ) {}

  static start(): Story {
    const t0 = parseInstant('2026-06-10T10:00:00Z') as Micros;
    return new Story([], t0 - MIN, ADMIN, null).line('CreateUser', ALICE, 'Alice').by(ALICE);
  }

  /** The following lines are by `user`. */
  by(user: string): Story {
    return new Story(this.lines, this.t, user, this.stampText);
  }

  /** The next line is at `iso` (the ones after it one minute apart again). */
  at(iso: string): Story {
    return new Story(this.lines, (parseInstant(iso) as Micros) - MIN, this.user, this.stampText);
  }

  /** The next line's timestamp is written as `text`, verbatim (an offset, none at all, …). */
  stamp(text: string): Story {
    return new Story(this.lines, this.t, this.user, text);
  }

  /** Appends `seq, when, user: Name("p1", …)`, with the next sequence number. */
  line(name: string, ...params: string[]): Story {
    const t = this.t + MIN;
    const when = this.stampText ?? historyTime(t);
    const text = `${this.lines.length + 1}, ${when}, ${this.user}: ${name}(${params.map(quote).join(', ')})`;
    return new Story([...this.lines, text], t, this.user, null);
  }

  /** Appends a line verbatim (it still counts for the next sequence number). */
  raw(text: string): Story {
    return new Story([...this.lines, text], this.t + MIN, this.user, null);
  }

  /** The state after replaying every line (throws on an error in strict mode). */
  state(mode: ReplayMode = 'strict', now = NOW): ReplayState {
    return replay(this.lines, { now: parseInstant(now) as Micros, mode });
  }

  /** The error replaying stops at (strict), with its line and seq; fails the test if there is none. */
  error(now = NOW): FkError & { lineNumber: number | null; seq: number | null } {
    try {
      this.state('strict', now);
    } catch (err) {
      if (err instanceof FkError && hasLinePosition(err)) return err;
      throw err;
    }
    throw new Error('expected the history to fail, and it replayed');
  }
}

export const story = (): Story => Story.start();

/** A user of a replayed state, which must exist. */
export function userIn(s: ReplayState, identity = ALICE): User {
  const u = s.tenant.users.get(identity);
  if (u === undefined) throw new Error(`no user ${identity}`);
  return u;
}

export const tagIn = (s: ReplayState, tag: string, identity = ALICE): Tag | undefined =>
  userIn(s, identity).tags.get(tag);

/** Micros of an ISO instant, for comparing model dates. */
export const us = (iso: string): Micros => parseInstant(iso) as Micros;
