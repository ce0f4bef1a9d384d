import { ProcSample, rssSlopeMibPerHour } from './proc-usage';

export interface SoakFigures {
  /** Mean RSS over the first and the last tenth of the run (at least one sample each), bytes. */
  startRssBytes: number;
  endRssBytes: number;
  /** (end − start) / start, in percent. */
  growthPercent: number;
  /** The least-squares RSS trend, in MiB per hour and as a share of the start per hour. */
  trendMibPerHour: number;
  trendPercentPerHour: number;
  durationS: number;
}

/**
 * What a soak's RSS samples say: the growth from its start to its end, each taken as the mean of
 * a tenth of the run so one garbage collection more or less at either end does not decide it, and
 * the fitted trend per hour. Needs two samples at least.
 */
export function soakFigures(samples: ProcSample[]): SoakFigures {
  if (samples.length < 2) throw new Error(`a soak needs two samples at least, got ${samples.length}`);
  const edge = Math.max(1, Math.floor(samples.length / 10));
  const mean = (part: ProcSample[]) => part.reduce((sum, s) => sum + s.rssBytes, 0) / part.length;
  const startRssBytes = mean(samples.slice(0, edge));
  const endRssBytes = mean(samples.slice(-edge));
  const trendMibPerHour = rssSlopeMibPerHour(samples);
  return {
    startRssBytes,
    endRssBytes,
    growthPercent: ((endRssBytes - startRssBytes) / startRssBytes) * 100,
    trendMibPerHour,
    trendPercentPerHour: ((trendMibPerHour * 1024 * 1024) / startRssBytes) * 100,
    durationS: (samples[samples.length - 1].atMs - samples[0].atMs) / 1000,
  };
}
