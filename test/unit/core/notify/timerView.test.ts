import { mmss } from '../../../../src/core/notify/timerView';

describe('mmss (seconds as m:ss in the timer lines)', () => {
  it('shows zero as 0:00', () => {
    expect(mmss(0)).toBe('0:00');
  });

  it('rounds to the nearest second, half up, carrying into the minute', () => {
    expect(mmss(59.4)).toBe('0:59');
    expect(mmss(59.5)).toBe('1:00');
    expect(mmss(0.49)).toBe('0:00');
    expect(mmss(1499.5)).toBe('25:00');
  });

  it('pads the seconds to two digits', () => {
    expect(mmss(5)).toBe('0:05');
    expect(mmss(65)).toBe('1:05');
  });

  it('does not fold minutes into hours', () => {
    expect(mmss(3599.6)).toBe('60:00');
    expect(mmss(3600)).toBe('60:00');
    expect(mmss(3661)).toBe('61:01');
    expect(mmss(36_000)).toBe('600:00');
  });
});
