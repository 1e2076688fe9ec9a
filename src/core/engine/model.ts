import type { Micros } from '../clock';
import { DomainError } from '../errors';
import { resolveList } from './lazyRefs';
import { RefSet, WorkitemIndex } from './modelIndex';
import { SYSTEM_CATEGORIES } from './systemCategories';

export { RefSet, WorkitemIndex } from './modelIndex';

/**
 * The Flowkeeper data model.
 *
 * Deliberately mutable (a reasoned exception to STYLE §3, recorded in docs/design.md):
 * Flowkeeper's strategies mutate in place and some of them fail half-way (e.g. `DeleteCategory`
 * of `#root` deletes every category, then raises). Lenient replay must show exactly that partial
 * state, and a 100k-line replay must stay well under half a second. Only `replay.ts` and the
 * client own a live model; everything they hand out is a snapshot (`toCanonicalState`).
 */

/**
 * An ordered collection keyed by uid: insertion order, changed only by reorder/move. Restored from
 * a snapshot, its list may hold references not read yet (lazyRefs.ts): every method that reads the
 * list resolves them first (its map resolves its own).
 */
export class OrderedMap<T extends { uid: string }> {
  private readonly list: T[] = [];
  private readonly map = new Map<string, T>();
  get size(): number {
    return this.list.length;
  }
  get(uid: string): T | undefined {
    return this.map.get(uid);
  }
  has(uid: string): boolean {
    return this.map.has(uid);
  }
  values(): readonly T[] {
    resolveList(this.list);
    return this.list;
  }
  add(item: T): void {
    this.list.push(item);
    this.map.set(item.uid, item);
  }
  remove(uid: string): T | undefined {
    resolveList(this.list);
    const item = this.map.get(uid);
    if (item === undefined) return undefined;
    this.map.delete(uid);
    this.list.splice(this.list.indexOf(item), 1);
    return item;
  }
  indexOf(uid: string): number {
    resolveList(this.list);
    const item = this.map.get(uid);
    return item === undefined ? -1 : this.list.indexOf(item);
  }
  /**
   * Flowkeeper's reorder: the item leaves its place and is inserted at `index`, or `index - 1`
   * when it moves down (the list shrank by one above it), with Python `list.insert` semantics
   * (past the end appends, negative counts from the end).
   */
  move(uid: string, index: number): void {
    resolveList(this.list);
    const item = this.map.get(uid);
    if (item === undefined) return;
    const old = this.list.indexOf(item);
    this.list.splice(old, 1);
    let i = index > old ? index - 1 : index;
    if (i < 0) i = Math.max(0, this.list.length + i);
    this.list.splice(Math.min(i, this.list.length), 0, item);
  }
  clear(): void {
    this.list.length = 0;
    this.map.clear();
  }
}

/** Anything with a uid, dates and a parent to notify (Flowkeeper's `item_updated()` chain). */
export abstract class Node {
  lastModified: Micros;
  /**
   * True when `lastModified` came from a timestamp written without a UTC offset (a naive Python
   * datetime). Flowkeeper cannot compare such a date with an offset-aware one: it raises
   * `TypeError` in the middle of whatever it was doing, and lenient replay keeps what was done.
   */
  naive: boolean;
  constructor(
    public uid: string,
    public name: string,
    public createDate: Micros,
    public parent: Node | null,
    naive = false,
  ) {
    this.lastModified = createDate;
    this.naive = naive;
  }
  /**
   * Marks this node and every ancestor modified at `date`, keeping the latest date (Flowkeeper's
   * `item_updated`). Stops with `TypeError` at the first node whose date is naive where `date` is
   * not, or the other way round; the nodes below it keep their new date.
   */
  itemUpdated(date: Micros, naive = false): void {
    for (let n: Node | null = this; n !== null; n = n.parent) {
      if (n.naive !== naive) throwNaiveAware('compare');
      if (date > n.lastModified) n.lastModified = date;
    }
  }
  /** Sets the modification date directly, as some of Flowkeeper's pomodoro transitions do. */
  stamp(date: Micros, naive: boolean): void {
    this.lastModified = date;
    this.naive = naive;
  }
}

/** Python's `TypeError` for mixing a naive and an aware datetime. */
export function throwNaiveAware(op: 'compare' | 'subtract'): never {
  const pythonError = `can't ${op} offset-naive and offset-aware datetimes`;
  throw new DomainError('FK_ILLEGAL_STATE', `${pythonError} (a timestamp without UTC offset)`, {
    pythonName: 'TypeError',
    details: { pythonError },
  });
}

export type PomodoroType = 'normal' | 'tracker' | 'counter';
export type PomodoroState = 'new' | 'work' | 'rest' | 'finished';
export type WorkitemState = 'new' | 'running' | 'finished' | 'canceled';
export type TimerState = 'idle' | 'work' | 'rest';

export class Interruption extends Node {
  constructor(
    uid: string,
    public reason: string | null,
    public duration: number | null,
    public isVoid: boolean,
    when: Micros,
    parent: Pomodoro,
    naive = false,
  ) {
    super(uid, reason ?? '', when, parent, naive);
  }
}

export class Pomodoro extends Node {
  state: PomodoroState = 'new';
  dateWorkStarted: Micros | null = null;
  /** `dateWorkStarted` came from a timestamp without UTC offset. */
  workStartedNaive = false;
  dateRestStarted: Micros | null = null;
  dateCompleted: Micros | null = null;
  readonly interruptions: Interruption[] = [];
  constructor(
    uid: string,
    name: string,
    public type: PomodoroType,
    public isPlanned: boolean,
    public workDuration: number,
    public restDuration: number,
    when: Micros,
    public workitem: Workitem,
    naive = false,
  ) {
    super(uid, name, when, workitem, naive);
  }
  isRunning(): boolean {
    return this.state === 'work' || this.state === 'rest';
  }
}

export interface Interval {
  started: Micros;
  ended: Micros | null;
  workDuration: number;
  restDuration: number;
}

export class Workitem extends Node {
  state: WorkitemState = 'new';
  dateWorkStarted: Micros | null = null;
  dateWorkEnded: Micros | null = null;
  /** The workitem's categories (Flowkeeper keeps the objects; a deleted one may stay). */
  categories = new RefSet<Category>();
  readonly intervals: Interval[] = [];
  readonly pomodoros: Pomodoro[] = [];
  constructor(
    uid: string,
    name: string,
    when: Micros,
    public backlog: Backlog,
    naive = false,
  ) {
    super(uid, name, when, backlog, naive);
  }
  isSealed(): boolean {
    return this.state === 'finished' || this.state === 'canceled';
  }
  /** The pomodoro in work or rest, if any. */
  runningPomodoro(): Pomodoro | undefined {
    return this.pomodoros.find((p) => p.state === 'work' || p.state === 'rest');
  }
  /** Flowkeeper's `is_tracker()`: any of its pomodoros is a tracker. */
  isTracker(): boolean {
    return this.pomodoros.some((p) => p.type === 'tracker');
  }
}

export class Backlog extends Node {
  dateWorkStarted: Micros | null = null;
  /** `dateWorkStarted` came from a timestamp without UTC offset. */
  workStartedNaive = false;
  readonly workitems = new OrderedMap<Workitem>();
  constructor(
    uid: string,
    name: string,
    when: Micros,
    public user: User,
    naive = false,
  ) {
    super(uid, name, when, user, naive);
  }
}

export class Category extends Node {
  /** The workitems that registered this category (Flowkeeper keeps the objects). */
  readonly uses = new RefSet<Workitem>();
  readonly children = new OrderedMap<Category>();
  constructor(
    uid: string,
    name: string,
    public isSystem: boolean,
    when: Micros,
    parent: Node,
    naive = false,
  ) {
    super(uid, name, when, parent, naive);
  }
}

export class Tag extends Node {
  readonly workitems = new Set<string>();
}

/** The per-user Pomodoro timer: raw fields, as Flowkeeper keeps them. */
export class Timer extends Node {
  state: TimerState = 'idle';
  pomodoro: Pomodoro | null = null;
  plannedDuration = 0;
  remainingDuration = 0;
  lastStateChange: Micros | null = null;
  nextStateChange: Micros | null = null;
  /** The UTC offset (µs) `nextStateChange` was written in, or null when naive. */
  nextZone: number | null = 0;
  pomodoroInSeries = 0;
  constructor(
    when: Micros,
    public lastDate: string,
    parent: Node,
    naive = false,
  ) {
    super('timer', 'timer', when, parent, naive);
  }
}

export class User extends Node {
  readonly backlogs = new OrderedMap<Backlog>();
  readonly workitems = new WorkitemIndex(this);
  readonly categories = new Map<string, Category>();
  readonly tags = new Map<string, Tag>();
  readonly rootCategory: Category;
  readonly timer: Timer;
  constructor(
    identity: string,
    name: string,
    public isSystem: boolean,
    when: Micros,
    today: string,
    parent: Node,
    naive = false,
  ) {
    super(identity, name, when, parent, naive);
    this.timer = new Timer(when, today, this, naive);
    this.rootCategory = buildSystemCategories(this, when, naive);
  }
  get identity(): string {
    return this.uid;
  }
}

export class Tenant extends Node {
  readonly users = new OrderedMap<User>();
}

export const ADMIN_USER = 'admin@local.host';

function buildSystemCategories(user: User, when: Micros, naive: boolean): Category {
  const add = (uid: string, name: string, parent: Node): Category => {
    const c = new Category(uid, name, true, when, parent, naive);
    user.categories.set(uid, c);
    if (parent instanceof Category) parent.children.add(c);
    return c;
  };
  const root = add('#root', 'Root category', user);
  for (const [uid, name, groups] of SYSTEM_CATEGORIES) {
    const top = add(uid, name, root);
    for (const [guid, gname, leaves] of groups) {
      const g = add(guid, gname, top);
      for (const [luid, lname] of leaves) add(luid, lname, g);
    }
  }
  return root;
}

