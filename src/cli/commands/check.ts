import type { Command } from 'commander';
import { readBackendHistory, type HistoryRead } from '../../app/historySource';
import { createLogger } from '../../app/logger';
import { backendKind } from '../../app/session';
import type { SkippedLine } from '../../core/engine/engine';
import { hasLinePosition } from '../../core/errors';
import { configFrom, print, printJson } from '../run';

interface Problem {
  readonly line: number | null;
  readonly seq: number | null;
  readonly code: string;
  readonly message: string;
  /** Brokers: why the record was ignored (`unauthentic`, `unreadable`, `rejected`). */
  readonly ignored?: string;
}

const problem = (s: SkippedLine): Problem => ({
  line: s.lineNumber,
  seq: s.seq,
  code: s.error.code,
  message: s.error.message,
  ...(s.reason !== undefined && s.reason !== 'failed' ? { ignored: s.reason } : {}),
});

/**
 * `fk check [history]`: validates a history and names every problem by line (file) or entry
 * (broker). A file is read leniently, so every failing line shows, plus the sequence problems
 * strict mode (`fk state`, fk itself) stops at. A broker log is read with the race rule every
 * client applies: lost races are normal and only counted; records nobody holding the key wrote
 * (`unauthentic`, `unreadable`) are problems; `rejected` records are listed, not problems.
 */
export function register(program: Command): void {
  program
    .command('check')
    .description('validate a history (file or broker) and name every problem by line or entry')
    .argument('[history]', 'history file or backend URL (default: the configured backend)')
    .option('--json', 'print JSON')
    .action(async (history: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      const base = configFrom(cmd);
      const config = history === undefined ? base : { ...base, backend: history };
      const logger = createLogger(config.logLevel, { cmd: 'check' });
      const broker = backendKind(config.backend) !== 'file';
      const read: HistoryRead = await readBackendHistory(config, logger, {
        passphraseFile: config.passphraseFile,
        cacheDir: config.cacheDir,
        now: Date.now() * 1000,
        policy: 'lenient',
        throwOnError: false,
        keepRecords: false,
      });
      const { state, where } = read;
      const listed = [...state.skipped, ...state.sequenceProblems].map(problem);
      const err = state.error;
      if (err !== null) {
        const line = hasLinePosition(err) ? err.lineNumber : null;
        listed.push(problem({ lineNumber: line, seq: hasLinePosition(err) ? err.seq : null, error: err }));
      }
      listed.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
      const counts = state.counts;
      const problems = listed.filter((p) => p.ignored !== 'rejected');
      if (opts.json) {
        printJson({
          ...(broker ? { backend: where } : { file: where }),
          records: state.lastSeq,
          ...(broker ? { entries: read.lines, ignored: counts } : {}),
          problems: listed,
        });
      } else if (listed.length === 0) {
        const extra = broker && counts.lostRaces > 0 ? `, ${counts.lostRaces} lost races ignored` : '';
        print(`${where}: ok, ${read.lines} ${broker ? 'entries' : 'lines'}, last sequence ${state.lastSeq}${extra}`);
      } else {
        for (const p of listed) {
          const tag = p.ignored === undefined ? '' : ` (ignored: ${p.ignored})`;
          print(`${where}${broker ? '#' : ':'}${p.line ?? '?'}: ${p.message} [${p.code}]${tag}`);
        }
      }
      if (problems.length > 0) process.exitCode = 3;
    });
}
