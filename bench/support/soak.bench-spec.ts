import { ProcSample } from './proc-usage';
import { soakFigures } from './soak';

const MiB = 1024 * 1024;
/** One sample every 10 s for `minutes`, RSS from `rssAt(seconds)` in MiB. */
const series = (minutes: number, rssAt: (s: number) => number): ProcSample[] =>
  Array.from({ length: minutes * 6 + 1 }, (_, i) => ({ atMs: i * 10_000, rssBytes: rssAt(i * 10) * MiB, peakRssBytes: 0, cpuS: 0 }));

describe('soakFigures', () => {
  it('a flat run grows 0 % with no trend', () => {
    const f = soakFigures(series(60, () => 90));
    expect(f).toMatchObject({ startRssBytes: 90 * MiB, endRssBytes: 90 * MiB, growthPercent: 0, trendMibPerHour: 0, durationS: 3600 });
  });

  it('a steady climb of 9 MiB an hour from 90 MiB: the trend is 9 MiB/h, a share of the start per hour', () => {
    const f = soakFigures(series(60, (s) => 90 + (9 * s) / 3600));
    expect(f.trendMibPerHour).toBeCloseTo(9, 6);
    // Start and end are the means of the first and last 36 samples (0–350 s, 3250–3600 s): 90.44 and 98.56 MiB.
    expect(f.startRssBytes / MiB).toBeCloseTo(90.4375, 6);
    expect(f.endRssBytes / MiB).toBeCloseTo(98.5625, 6);
    expect(f.trendPercentPerHour).toBeCloseTo((9 / 90.4375) * 100, 6);
    expect(f.growthPercent).toBeCloseTo((8.125 / 90.4375) * 100, 6);
  });

  it('one spike at either end does not decide the growth', () => {
    const spikes = series(60, (s) => (s === 3600 ? 120 : s === 0 ? 70 : 90));
    const f = soakFigures(spikes);
    expect(Math.abs(f.growthPercent)).toBeLessThan(10);
    expect(f.growthPercent).toBeGreaterThan(0);
  });

  it('a short run uses one sample at each end', () => {
    const f = soakFigures(series(0.5, (s) => 100 + s));
    expect(f).toMatchObject({ startRssBytes: 100 * MiB, endRssBytes: 130 * MiB, growthPercent: 30, durationS: 30 });
  });

  it('refuses fewer than two samples', () => {
    expect(() => soakFigures(series(0, () => 90))).toThrow(/two samples at least, got 1/);
  });
});
