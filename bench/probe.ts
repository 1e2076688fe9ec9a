import { writeFileSync } from 'node:fs';

/**
 * Preloaded (`node --require`) into a measured process: at exit it writes what that process cost
 * to the file named by FK_BENCH_PROBE: peak RSS, CPU time and how many modules it loaded (files of
 * the program and its dependencies, and Node's own built-in modules). Loading it costs the same in
 * every measured process, so comparisons stay fair.
 */
const out = process.env.FK_BENCH_PROBE;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
    writeFileSync(
      out,
      JSON.stringify({
        maxRssKb: u.maxRSS,
        cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000,
        // the probe itself is one of them
        modules: Object.keys(require.cache).length - 1,
        builtins: list.filter((m) => m.startsWith('NativeModule ')).length,
      }),
    );
  });
}
