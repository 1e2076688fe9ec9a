import type { Micros } from '../clock';
import { cloneUser } from './cloneTenant';
import type { HistoryState } from './engine';
import { Tenant, type User } from './model';
import { sealIsDue, sealTimer } from './strategies/timerTransitions';

/**
 * Views "at now" (issue 11 item 2, design points 2 and 11). The live model of a client changes
 * only by records, each applied at its own timestamp (a record's strategy first rings whatever
 * was due at its `when`, as Flowkeeper does). What the wall clock says about the timer is
 * computed here, on a copy, and never written back: a record that arrives late, stamped before
 * a transition the clock already "saw" (a void during a rest the clock thinks is over), still
 * applies to the live model exactly as it does for every other reader.
 *
 * For the daemon: derive "the timer rang" from `sealedUser(live, user, now)` compared with what
 * was last announced; when a later-arriving record changes the past (the pomodoro was voided
 * before its announced end), the live model after that record says so, and the daemon corrects
 * its announcement. Nothing here mutates `live`.
 */

/**
 * `uid`'s user as Flowkeeper shows it at `now`: its timer sealed at `now` (with Flowkeeper's
 * one-second margin). When nothing is due, the live user itself (read it, never change it);
 * otherwise a sealed deep copy of that one user. Undefined for an unknown user.
 */
export function sealedUser(live: HistoryState, uid: string, now: Micros): User | undefined {
  const user = live.tenant.users.get(uid);
  if (user === undefined || !sealIsDue(user, now)) return user;
  return sealedCopy(live.tenant, user, now);
}

/**
 * The whole state as it looks at `now` for `uid`: the live state itself when none of that user's
 * transitions is due, else a shallow copy whose tenant holds a sealed copy of that user (the
 * other users are the live objects). Read-only: never mutate what it returns.
 */
export function viewAt(live: HistoryState, uid: string, now: Micros): HistoryState {
  const user = live.tenant.users.get(uid);
  if (user === undefined || !sealIsDue(user, now)) return live;
  const tenant = shellTenant(live.tenant);
  for (const u of live.tenant.users.values()) {
    if (u === user) {
      const copy = cloneUser(u, tenant);
      sealTimer(copy, now);
      tenant.users.add(copy);
    } else tenant.users.add(u);
  }
  return { ...live, tenant };
}

function shellTenant(src: Tenant): Tenant {
  const t = new Tenant(src.uid, src.name, src.createDate, null);
  t.lastModified = src.lastModified;
  return t;
}

function sealedCopy(tenant: Tenant, user: User, now: Micros): User {
  const copy = cloneUser(user, shellTenant(tenant));
  sealTimer(copy, now);
  return copy;
}
