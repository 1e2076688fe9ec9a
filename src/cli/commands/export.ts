import type { Command } from 'commander';
import { compactHistory, type CompactResult } from '../../tools/compact';
import { createProgress } from '../../app/progress';
import { assertOutputAllowed, writeOutputFile } from '../outputFile';
import { print, printJson } from '../run';
import { renumbered } from '../../core/engine/records';
import { fernetForOutput, historyText, parseNowOption, percent, readToolSource } from '../toolsCommon';

interface ExportFlags {
  out: string;
  from?: string;
  compact?: boolean;
  encrypt?: boolean;
  force?: boolean;
  now?: string;
  json?: boolean;
}

/**
 * `fk export`: writes a history file Flowkeeper desktop opens (its own line format, plain or
 * Fernet-encrypted), from the configured backend or `--from FILE`; the whole history renumbered
 * from 1, or with `--compact` a shorter one with the same final state. The source is only read.
 */
export function register(program: Command): void {
  program
    .command('export')
    .description('write the history as a Flowkeeper data file (plain or --encrypt), in full or --compact')
    .requiredOption('--out <file>', 'file to write (refused if it exists, unless --force)')
    .option('--from <file>', 'read this history file instead of the configured backend')
    .option('--compact', 'write a shorter history with exactly the same final state (verified by replay)')
    .option(
      '--encrypt',
      "encrypt the records with Flowkeeper's Fernet format (passphrase: FK_PASSPHRASE, --passphrase-file or a prompt)",
    )
    .option('--force', 'replace an existing output file')
    .option('--now <iso8601>', 'instant the compacted state is compared at (default: now)')
    .option('--json', 'print a JSON summary')
    .action(async (flags: ExportFlags, cmd: Command) => {
      const now = parseNowOption(flags.now);
      const inputs = flags.from !== undefined ? [flags.from] : [];
      const target = { path: flags.out, force: flags.force === true, inputs };
      await assertOutputAllowed(target);
      const { read, config } = await readToolSource(cmd, flags.from, now);
      const source = renumbered(read.records);
      let compaction: CompactResult | null = null;
      if (flags.compact) {
        const bar = createProgress({ label: 'compacting' });
        try {
          compaction = compactHistory(source, {
            now,
            onProgress: (p) =>
              bar.update(
                p.done,
                p.total,
                p.phase === 'search' ? 'compacting: verifying proposals' : `compacting: ${p.phase}`,
              ),
          });
        } finally {
          bar.done();
        }
      }
      const records = compaction?.records ?? source;
      const cipher = flags.encrypt ? await fernetForOutput(config, `to encrypt '${flags.out}'`) : undefined;
      await writeOutputFile(
        { ...target, inputs: [...inputs, ...(flags.from === undefined ? [read.where] : [])] },
        historyText(records, cipher),
      );
      const summary = {
        from: read.where,
        out: flags.out,
        encryption: cipher ? 'fernet' : 'plain',
        records: records.length,
        sourceRecords: source.length,
        compacted: compaction !== null,
        saved: compaction?.saved ?? 0,
        ...(compaction ? { rules: compaction.rules, verifications: compaction.verifications } : {}),
      };
      if (flags.json) printJson(summary);
      else {
        print(`exported ${records.length} records from '${read.where}' to '${flags.out}' (${summary.encryption})`);
        if (compaction) {
          print(
            `compaction saved ${compaction.saved} of ${source.length} lines ` +
              `(${percent(compaction.saved, source.length)}); final state verified identical by replay`,
          );
        }
      }
    });
}
