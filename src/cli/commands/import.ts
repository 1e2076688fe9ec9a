import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { manualClock } from '../../core/clock';
import { DomainError, FkError, InputError } from '../../core/errors';
import { planImport, type ImportMode, type ImportPlan } from '../../tools/importPlan';
import { ADMIN_USER } from '../../core/engine/model';
import type { StrategyRecord } from '../../core/engine/records';
import { executeRecord, type ReplayState } from '../../core/engine/replay';
import { cloneTenant } from '../../core/engine/cloneTenant';
import { createLogger } from '../../app/logger';
import { createProgress } from '../../app/progress';
import { configFrom, ensureUser, print, printJson } from '../run';
import { openSession } from '../../app/session';
import { readToolSource } from '../toolsCommon';

interface ImportFlags {
  replay?: boolean;
  merge?: boolean;
  dryRun?: boolean;
  json?: boolean;
  sourcePassphraseFile?: string;
}

/**
 * `fk import FILE`: brings another Flowkeeper history into the configured one, as new actions of
 * the configured user appended through the client (so the target's sequencing and encryption
 * apply). The whole source is validated first (strict replay) and the whole import is checked
 * against a scratch copy of the target: a file with an error, or an import the target would
 * reject, stops before anything is appended, naming the source line. Rules: tools/importPlan.ts.
 */
export function register(program: Command): void {
  program
    .command('import')
    .description('import another Flowkeeper history: --replay (default, new copies) or --merge (by uid)')
    .argument('<file>', 'history file to import (plain, Fernet or sodium; only read)')
    .option('--replay', 'append it as new actions of the current user, with fresh uids (default)')
    .option('--merge', 'merge by uid: skip what the target already has, rename what changed')
    .option('--dry-run', 'check and report, append nothing')
    .option('--source-passphrase-file <path>', "passphrase of the imported file, when it differs from the target's")
    .option('--json', 'print a JSON summary')
    .action(async (file: string, flags: ImportFlags, cmd: Command) => {
      if (flags.replay && flags.merge)
        throw new InputError('FK_INPUT_INVALID', 'give either --replay or --merge, not both');
      const mode: ImportMode = flags.merge ? 'merge' : 'replay';
      const config = configFrom(cmd);
      const logger = createLogger(config.logLevel, { cmd: 'import' });
      const clock = manualClock(Date.now() * 1000);
      const realNow = clock.now();
      const { read } = await readToolSource(cmd, file, realNow, flags.sourcePassphraseFile);
      const existing: StrategyRecord[] = [];
      const session = await openSession(config, logger, { clock, onRecord: (r) => existing.push(r) });
      try {
        if (session.client.historyError) throw session.client.historyError;
        let target: ReplayState = session.client.view();
        if (!target.tenant.users.has(config.user)) {
          if (flags.dryRun) target = withUser(target, config.user, realNow);
          else await ensureUser(session, config);
        }
        const user = target.tenant.users.get(config.user);
        if (user && user.timer.state !== 'idle') {
          throw new DomainError(
            'FK_ILLEGAL_STATE',
            `the timer of '${config.user}' is running; stop it (or let it ring) before importing`,
          );
        }
        const plan = planImport(
          read.records.map((record, i) => ({ record, lineNumber: read.lineNumbers[i] ?? i + 1 })),
          target,
          { mode, user: config.user, newId: randomUUID, now: realNow, existing: [...existing] },
        );
        if (!flags.dryRun) await append(plan, session.client, config.user, clock);
        report(plan, { file, mode, dryRun: flags.dryRun === true, json: flags.json === true });
      } finally {
        await session.close();
      }
    });
}

/** A scratch copy of `state` with `user` created, for a dry run into a history that lacks them. */
function withUser(state: ReplayState, user: string, now: number): ReplayState {
  const scratch: ReplayState = { ...state, tenant: cloneTenant(state.tenant), skipped: [] };
  executeRecord(
    scratch,
    {
      seq: state.lastSeq + 1,
      when: now,
      user: ADMIN_USER,
      name: 'CreateUser',
      params: [user, user.split('@')[0] ?? user],
    },
    { now },
  );
  return scratch;
}

/** Appends the plan in order, each record stamped with its original time. */
async function append(
  plan: ImportPlan,
  client: {
    execute: (n: StrategyRecord['name'], p: readonly string[], as?: { user?: string }) => Promise<StrategyRecord>;
  },
  user: string,
  clock: { set(t: number): void },
): Promise<void> {
  const bar = createProgress({ label: 'importing', total: plan.records.length });
  let done = 0;
  try {
    for (const p of plan.records) {
      clock.set(p.when);
      try {
        await client.execute(p.name, p.params, { user });
      } catch (err) {
        if (err instanceof FkError) {
          err.message = `imported ${done} of ${plan.records.length} records, then line ${p.sourceLine} failed ` +
            `(the target changed meanwhile?): ${err.message}`;
        }
        throw err;
      }
      bar.update(++done);
    }
  } finally {
    bar.done();
    clock.set(Date.now() * 1000);
  }
}

function report(plan: ImportPlan, o: { file: string; mode: ImportMode; dryRun: boolean; json: boolean }): void {
  const verb = o.dryRun ? 'would import' : 'imported';
  if (o.json) {
    printJson({
      file: o.file,
      mode: o.mode,
      dryRun: o.dryRun,
      appended: o.dryRun ? 0 : plan.records.length,
      planned: plan.records.length,
      skipped: plan.skipped,
    });
    return;
  }
  print(`${verb} ${plan.records.length} records from '${o.file}' (${o.mode}), skipped ${plan.skipped.length}`);
  const rejected = plan.skipped.filter((x) => x.reason.startsWith('rejected by the target'));
  const reasons = new Map<string, number>();
  for (const s of plan.skipped) if (!rejected.includes(s)) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  for (const [reason, n] of reasons) print(`  ${n} skipped: ${reason}`);
  for (const s of rejected.slice(0, 20)) print(`  line ${s.sourceLine}: ${s.name} skipped, ${s.reason}`);
  if (rejected.length > 20) print(`  … and ${rejected.length - 20} more rejected (see --json)`);
}
