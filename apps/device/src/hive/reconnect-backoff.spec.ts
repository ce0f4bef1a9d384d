import { ReconnectBackoff } from './reconnect-backoff';

function delays(backoff: ReconnectBackoff, count: number): number[] {
  return Array.from({ length: count }, () => backoff.next());
}

describe('ReconnectBackoff (docs/protocol.md §1: 1 s doubling to at most 60 s, ±50 %)', () => {
  it('doubles from 1 s and stays at 60 s when the jitter is neutral', () => {
    const backoff = new ReconnectBackoff(() => 0.5);
    expect(delays(backoff, 10)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  });

  it('never goes past 60 s however many attempts fail', () => {
    const backoff = new ReconnectBackoff(() => 0.5);
    const all = delays(backoff, 200);
    expect(Math.max(...all)).toBe(60000);
    expect(all[199]).toBe(60000);
  });

  it('takes off at most half with the lowest random number', () => {
    const backoff = new ReconnectBackoff(() => 0);
    expect(delays(backoff, 8)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('adds at most half with the highest random number, and never waits past 60 s', () => {
    const almostOne = 1 - Number.EPSILON;
    const backoff = new ReconnectBackoff(() => almostOne);
    expect(delays(backoff, 8)).toEqual([1500, 3000, 6000, 12000, 24000, 48000, 60000, 60000]); // never past 60 s
  });

  it('stays within ±50 % of the nominal delay for any random number', () => {
    const nominal = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000];
    for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999]) {
      const got = delays(new ReconnectBackoff(() => r), nominal.length);
      got.forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(nominal[i] * 0.5);
        expect(delay).toBeLessThanOrEqual(nominal[i] * 1.5);
      });
    }
  });

  it('draws a fresh random number for every delay', () => {
    const draws = [0, 1 - Number.EPSILON, 0.5];
    const backoff = new ReconnectBackoff(() => draws.shift() ?? 0.5);
    expect(delays(backoff, 3)).toEqual([500, 3000, 4000]);
  });

  it('starts again at 1 s after reset()', () => {
    const backoff = new ReconnectBackoff(() => 0.5);
    delays(backoff, 9);
    backoff.reset();
    expect(delays(backoff, 3)).toEqual([1000, 2000, 4000]);
  });

  it('uses Math.random by default', () => {
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);
    try {
      expect(new ReconnectBackoff().next()).toBe(500);
      expect(random).toHaveBeenCalled();
    } finally {
      random.mockRestore();
    }
  });
});
