import { escapeControl } from '../../app/terminalText';
import { Option, type Command } from 'commander';
import { InputError } from '../../core/errors';
import { computeStats } from '../../tools/stats';
import { writeOutputFile } from '../outputFile';
import { printJson } from '../run';
import { parseOffset, renderStatsSvg, renderStatsTable, type SvgMetric } from '../statsRender';
import { parseNowOption, readToolSource } from '../toolsCommon';
import { userTimeZone } from '../../tools/timeZone';

interface StatsFlags {
  from?: string;
  to?: string;
  utcOffset?: string;
  tz?: string;
  json?: boolean;
  svg?: string;
  svgMetric: SvgMetric;
  force?: boolean;
  now?: string;
}

/**
 * `fk stats`: pomodoros, focus time, trackers, interruptions and voided pomodoros per day, ISO
 * week, tag and category (see tools/stats.ts for the definitions), as a table, JSON, or an SVG
 * bar chart. Reads the configured backend or a given file, without writing to it.
 */
export function register(program: Command): void {
  program
    .command('stats')
    .description('productivity statistics per day, ISO week, tag and category (table, --json or --svg chart)')
    .argument('[history]', 'history file (default: the configured backend)')
    .option('--from <YYYY-MM-DD>', 'first day counted (inclusive)')
    .option('--to <YYYY-MM-DD>', 'last day counted (inclusive)')
    .option('--tz <zone>', 'IANA time zone the days are cut in, e.g. Europe/Paris (default: TZ, else the system zone)')
    .option('--utc-offset <±HH:MM>', 'cut days at a fixed UTC offset instead of a time zone')
    .option('--json', 'print JSON instead of a table')
    .option('--svg <file>', 'also write a bar chart of each day as SVG')
    .addOption(
      new Option('--svg-metric <metric>', 'what the bars show').choices(['pomodoros', 'focus']).default('pomodoros'),
    )
    .option('--force', 'replace an existing SVG file')
    .option('--now <iso8601>', 'replay the history at this instant (default: now)')
    .action(async (file: string | undefined, flags: StatsFlags, cmd: Command) => {
      if (flags.svg !== undefined && !/\.svg$/i.test(flags.svg)) {
        const msg = `option '--svg' writes an SVG image only: give a file name ending in .svg, got '${flags.svg}'`;
        throw new InputError('FK_INPUT_INVALID', msg);
      }
      if (flags.tz !== undefined && flags.utcOffset !== undefined) {
        throw new InputError('FK_INPUT_INVALID', 'give either --tz or --utc-offset, not both');
      }
      const offset = flags.utcOffset === undefined ? 0 : parseOffset(flags.utcOffset);
      if (offset === null)
        throw new InputError(
          'FK_INPUT_INVALID',
          `option '--utc-offset' must look like +02:00, got '${flags.utcOffset}'`,
        );
      const zone = flags.utcOffset === undefined ? userTimeZone(flags.tz, process.env.TZ) : undefined;
      const now = parseNowOption(flags.now);
      const { read, config } = await readToolSource(cmd, file, now);
      if (!read.state.tenant.users.has(config.user)) {
        const users = read.state.tenant.users
          .values()
          .filter((u) => !u.isSystem)
          .map((u) => u.identity);
        throw new InputError(
          'FK_INPUT_INVALID',
          `user '${config.user}' is not in '${read.where}' (use --user; it holds: ${users.join(', ') || 'no users'})`,
        );
      }
      const stats = computeStats(read.state.tenant, {
        user: config.user,
        utcOffsetMinutes: offset,
        ...(zone ? { timeZone: zone } : {}),
        ...(flags.from !== undefined ? { from: flags.from } : {}),
        ...(flags.to !== undefined ? { to: flags.to } : {}),
      });
      if (flags.svg !== undefined) {
        await writeOutputFile(
          { path: flags.svg, force: flags.force === true, inputs: [read.where] },
          renderStatsSvg(stats, flags.svgMetric),
        );
      }
      if (flags.json) printJson(stats);
      else process.stdout.write(escapeControl(renderStatsTable(stats)));
    });
}
