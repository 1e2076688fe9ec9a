import { Backlog, Category, Interruption, Node, Pomodoro, Tag, Tenant, User, Workitem } from './model';

/**
 * Deep copy of a whole tenant, with parents, indexes and the timer's pomodoro re-linked. Lets a
 * client check a new record against the current state without touching the live model, which
 * only ever changes by records accepted from the log.
 */
export function cloneTenant(src: Tenant): Tenant {
  const t = new Tenant(src.uid, src.name, src.createDate, null);
  t.lastModified = src.lastModified;
  for (const su of src.users.values()) t.users.add(cloneUser(su, t));
  return t;
}

function copyDates(dst: Node, src: Node): void {
  dst.lastModified = src.lastModified;
}

function cloneCategory(src: Category, parent: Node, user: User): Category {
  const c = new Category(src.uid, src.name, src.isSystem, src.createDate, parent);
  copyDates(c, src);
  for (const u of src.uses) c.uses.add(u);
  user.categories.set(c.uid, c);
  for (const ch of src.children.values()) c.children.add(cloneCategory(ch, c, user));
  return c;
}

/** Deep copy of one user (its whole subtree), attached to `tenant`. */
export function cloneUser(src: User, tenant: Tenant): User {
  const u = new User(src.uid, src.name, src.isSystem, src.createDate, src.timer.lastDate, tenant);
  copyDates(u, src);
  u.categories.clear();
  const root = cloneCategory(src.rootCategory, u, u);
  (u as { rootCategory: Category }).rootCategory = root;
  // Categories deleted from the tree but still indexed cannot exist: the index mirrors the tree.
  let timerPomodoro: Pomodoro | null = null;
  for (const sb of src.backlogs.values()) {
    const b = new Backlog(sb.uid, sb.name, sb.createDate, u);
    copyDates(b, sb);
    b.dateWorkStarted = sb.dateWorkStarted;
    for (const sw of sb.workitems.values()) {
      const w = new Workitem(sw.uid, sw.name, sw.createDate, b);
      copyDates(w, sw);
      w.state = sw.state;
      w.dateWorkStarted = sw.dateWorkStarted;
      w.dateWorkEnded = sw.dateWorkEnded;
      for (const c of sw.categories) w.categories.add(c);
      for (const iv of sw.intervals) w.intervals.push({ ...iv });
      for (const sp of sw.pomodoros) {
        const p = new Pomodoro(sp.uid, sp.name, sp.type, sp.isPlanned, sp.workDuration, sp.restDuration, sp.createDate, w);
        copyDates(p, sp);
        p.state = sp.state;
        p.dateWorkStarted = sp.dateWorkStarted;
        p.dateRestStarted = sp.dateRestStarted;
        p.dateCompleted = sp.dateCompleted;
        for (const si of sp.interruptions) {
          const i = new Interruption(si.uid, si.reason, si.duration, si.isVoid, si.createDate, p);
          copyDates(i, si);
          p.interruptions.push(i);
        }
        if (src.timer.pomodoro === sp) timerPomodoro = p;
        w.pomodoros.push(p);
      }
      b.workitems.add(w);
      u.workitems.set(w.uid, w);
    }
    u.backlogs.add(b);
  }
  for (const [k, st] of src.tags) {
    const tag = new Tag(st.uid, st.name, st.createDate, u);
    copyDates(tag, st);
    for (const w of st.workitems) tag.workitems.add(w);
    u.tags.set(k, tag);
  }
  const s = src.timer;
  const tm = u.timer;
  copyDates(tm, s);
  tm.createDate = s.createDate;
  tm.state = s.state;
  tm.pomodoro = s.pomodoro === null ? null : (timerPomodoro ?? s.pomodoro);
  tm.plannedDuration = s.plannedDuration;
  tm.remainingDuration = s.remainingDuration;
  tm.lastStateChange = s.lastStateChange;
  tm.nextStateChange = s.nextStateChange;
  tm.pomodoroInSeries = s.pomodoroInSeries;
  tm.lastDate = s.lastDate;
  return u;
}
