import { readLog } from '../../../src/core/readLog';
import type { Transport } from '../../../src/core/transport';
import { createMemoryTransport } from '../../../src/transports/memory';

async function filled(lines: string[]): Promise<Transport> {
  const t = createMemoryTransport();
  await t.connect();
  for (const [i, line] of lines.entries()) await t.publish(line, { id: `id-${i}`, seq: i + 1 });
  return t;
}

describe('readLog: one read of a log until caught up', () => {
  it('hands on every entry and says it reached the end', async () => {
    const t = await filled(['a', 'b', 'c']);
    const seen: string[] = [];
    await expect(readLog(t, null, (e) => void seen.push(e.line))).resolves.toBe(true);
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('stops when the handler has enough, and hands on nothing after', async () => {
    const t = await filled(['a', 'b', 'c']);
    const seen: string[] = [];
    await expect(readLog(t, null, (e) => seen.push(e.line) >= 2)).resolves.toBe(false);
    expect(seen).toEqual(['a', 'b']);
  });

  it('reads an empty log and resumes after a position', async () => {
    const empty = createMemoryTransport();
    await empty.connect();
    await expect(readLog(empty, null, () => true)).resolves.toBe(true);
    const t = await filled(['a', 'b', 'c']);
    const positions: string[] = [];
    await readLog(t, null, (e) => void positions.push(e.position));
    const rest: string[] = [];
    await readLog(t, positions[0] ?? null, (e) => void rest.push(e.line));
    expect(rest).toEqual(['b', 'c']);
  });
});
