import { readFileSync } from 'node:fs';
import { writeCanonicalState } from '../src/core/engine/canonical';
import { replay } from '../src/core/engine/replay';
import { splitLines } from '../src/core/engine/serializer';

/** One measured replay in a fresh process (see replayBench.ts). */
const file = process.argv[2] as string;
const now = Date.UTC(2030, 0, 1) * 1000;
const t0 = process.hrtime.bigint();
const state = replay(splitLines(readFileSync(file, 'utf8')), { now });
const t1 = process.hrtime.bigint();
const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);
const replayRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
let bytes = 0;
writeCanonicalState(state, 'strict', now, (chunk) => {
  bytes += chunk.length;
});
const t2 = process.hrtime.bigint();
process.stdout.write(
  JSON.stringify({
    replayMs: Math.round(Number(t1 - t0) / 1e5) / 10,
    totalMs: Math.round(Number(t2 - t0) / 1e5) / 10,
    replayRssMb,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapMb,
    bytes,
  }),
);
