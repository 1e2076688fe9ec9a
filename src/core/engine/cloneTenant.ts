import { Backlog, Category, Interruption, type Node, Pomodoro, RefSet, Tag, Tenant, User, Workitem } from './model';

/**
 * Deep copy of a whole tenant, with parents, indexes and the timer's pomodoro re-linked. Lets a
 * client check a new record against the current state without touching the live model, which
 * only ever changes by records accepted from the log.
 */
export function cloneTenant(src: Tenant): Tenant {
  const t = new Tenant(src.uid, src.name, src.createDate, null, src.naive);
  t.lastModified = src.lastModified;
  for (const su of src.users.values()) t.users.add(cloneUser(su, t));
  return t;
}

function copyDates(dst: Node, src: Node): void {
  dst.lastModified = src.lastModified;
  dst.naive = src.naive;
}

/**
 * Copies one user. Workitems and categories refer to each other (a category's users, a
 * workitem's categories); Flowkeeper keeps such references to deleted objects too, so those
 * are copied as detached objects, each once.
 */
class UserCloner {
  readonly user: User;
  private readonly categories = new Map<Category, Category>();
  private readonly workitems = new Map<Workitem, Workitem>();
  private readonly links: Array<() => void> = [];

  constructor(
    private readonly src: User,
    tenant: Tenant,
  ) {
    const u = new User(src.uid, src.name, src.isSystem, src.createDate, src.timer.lastDate, tenant, src.naive);
    this.user = u;
    copyDates(u, src);
    u.categories.clear();
    (u as { rootCategory: Category }).rootCategory = this.category(src.rootCategory, u, true);
    for (const sb of src.backlogs.values()) {
      const b = new Backlog(sb.uid, sb.name, sb.createDate, u);
      copyDates(b, sb);
      b.dateWorkStarted = sb.dateWorkStarted;
      b.workStartedNaive = sb.workStartedNaive;
      for (const sw of sb.workitems.values()) {
        const w = this.workitem(sw, b);
        b.workitems.add(w);
        u.workitems.add(w);
      }
      u.backlogs.add(b);
    }
    for (const link of this.links) link();
    for (const [k, st] of src.tags) {
      const tag = new Tag(st.uid, st.name, st.createDate, u);
      copyDates(tag, st);
      for (const w of st.workitems) tag.workitems.add(w);
      u.tags.set(k, tag);
    }
    this.timer();
  }

  private category(s: Category, parent: Node, inTree: boolean): Category {
    const done = this.categories.get(s);
    if (done !== undefined) return done;
    const c = new Category(s.uid, s.name, s.isSystem, s.createDate, parent);
    this.categories.set(s, c);
    copyDates(c, s);
    if (inTree) this.user.categories.set(c.uid, c);
    for (const ch of s.children.values()) c.children.add(this.category(ch, c, inTree));
    this.links.push(() => {
      for (const [uid, w] of s.uses.entries()) c.uses.add(uid, this.workitem(w, null));
    });
    return c;
  }

  private workitem(s: Workitem, backlog: Backlog | null): Workitem {
    const done = this.workitems.get(s);
    if (done !== undefined) return done;
    // a workitem no longer in the tree keeps a detached copy of its backlog as parent
    const b = backlog ?? new Backlog(s.backlog.uid, s.backlog.name, s.backlog.createDate, this.user);
    const w = new Workitem(s.uid, s.name, s.createDate, b);
    this.workitems.set(s, w);
    copyDates(w, s);
    w.state = s.state;
    w.dateWorkStarted = s.dateWorkStarted;
    w.dateWorkEnded = s.dateWorkEnded;
    for (const iv of s.intervals) w.intervals.push({ ...iv });
    for (const sp of s.pomodoros) w.pomodoros.push(this.pomodoro(sp, w));
    const categories = new RefSet<Category>();
    w.categories = categories;
    this.links.push(() => {
      for (const [uid, c] of s.categories.entries()) {
        categories.add(uid, this.categories.get(c) ?? this.category(c, this.user, false));
      }
    });
    return w;
  }

  private pomodoro(sp: Pomodoro, w: Workitem): Pomodoro {
    const p = new Pomodoro(sp.uid, sp.name, sp.type, sp.isPlanned, sp.workDuration, sp.restDuration, sp.createDate, w);
    copyDates(p, sp);
    p.state = sp.state;
    p.dateWorkStarted = sp.dateWorkStarted;
    p.workStartedNaive = sp.workStartedNaive;
    p.dateRestStarted = sp.dateRestStarted;
    p.dateCompleted = sp.dateCompleted;
    for (const si of sp.interruptions) {
      const i = new Interruption(si.uid, si.reason, si.duration, si.isVoid, si.createDate, p);
      copyDates(i, si);
      p.interruptions.push(i);
    }
    if (this.src.timer.pomodoro === sp) this.user.timer.pomodoro = p;
    return p;
  }

  private timer(): void {
    const s = this.src.timer;
    const tm = this.user.timer;
    const pomodoro = tm.pomodoro;
    copyDates(tm, s);
    tm.createDate = s.createDate;
    tm.state = s.state;
    tm.pomodoro = s.pomodoro === null ? null : (pomodoro ?? s.pomodoro);
    tm.plannedDuration = s.plannedDuration;
    tm.remainingDuration = s.remainingDuration;
    tm.lastStateChange = s.lastStateChange;
    tm.nextStateChange = s.nextStateChange;
    tm.nextZone = s.nextZone;
    tm.pomodoroInSeries = s.pomodoroInSeries;
    tm.lastDate = s.lastDate;
  }
}

/** Deep copy of one user (its whole subtree), attached to `tenant`. */
export function cloneUser(src: User, tenant: Tenant): User {
  return new UserCloner(src, tenant).user;
}
