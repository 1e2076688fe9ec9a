import { createProgress } from '../../../src/app/progress';

function terminal(isTTY = true): { write: (s: string) => void; isTTY: boolean; columns: number; out: string[] } {
  const out: string[] = [];
  return { write: (s) => void out.push(s), isTTY, columns: 80, out };
}

describe('createProgress', () => {
  it('draws nothing when stderr is not a terminal', () => {
    const stream = terminal(false);
    let t = 0;
    const p = createProgress({ label: 'replaying', total: 10, stream, now: () => t });
    t = 5000;
    p.update(5);
    p.done();
    expect(stream.out).toEqual([]);
  });

  it('stays silent for quick operations (nothing before the delay)', () => {
    const stream = terminal();
    let t = 0;
    const p = createProgress({ label: 'replaying', total: 10, stream, now: () => t });
    t = 299;
    p.update(10);
    p.done();
    expect(stream.out).toEqual([]);
  });

  it('draws a bar on one line, throttled, and erases it when done', () => {
    const stream = terminal();
    let t = 0;
    const p = createProgress({ label: 'importing', total: 200, stream, now: () => t });
    t = 400;
    p.update(50);
    t = 450;
    p.update(60); // within 100 ms of the last draw: skipped
    t = 520;
    p.tick(40);
    p.done();
    p.done();
    expect(stream.out).toEqual([
      '\rimporting [######------------------]  25% 50/200\u001b[K',
      '\rimporting [############------------]  50% 100/200\u001b[K',
      '\r\u001b[K',
    ]);
  });

  it('shows a counter when the total is unknown, and redraws at once on a new label', () => {
    const stream = terminal();
    let t = 1000;
    const p = createProgress({ label: 'reading', stream, now: () => t, delayMs: 0 });
    p.update(1234);
    t += 10;
    p.update(0, 5, 'verifying');
    expect(stream.out).toEqual(['\rreading 1,234\u001b[K', '\rverifying [------------------------]   0% 0/5\u001b[K']);
  });
});
