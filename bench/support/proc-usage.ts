import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

export interface ProcSample {
  /** When it was taken (ms, monotonic). */
  atMs: number;
  rssBytes: number;
  /** The highest RSS so far (VmHWM). */
  peakRssBytes: number;
  /** user + system CPU time so far, in seconds. */
  cpuS: number;
}

/** A process's resident memory and CPU time so far, read from /proc (Linux). */
export function sampleProcess(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  return { atMs: performance.now(), rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM'), cpuS: cpuTicks / TICKS_PER_S };
}

/** CPU use between two samples, in percent of one core. */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  return ((to.cpuS - from.cpuS) / ((to.atMs - from.atMs) / 1000)) * 100;
}

/** Least-squares slope of RSS over time, in MiB per hour: "flat" is near 0. */
export function rssSlopeMibPerHour(samples: ProcSample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const xs = samples.map((s) => s.atMs / 3_600_000);
  const ys = samples.map((s) => s.rssBytes / 1024 / 1024);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export function mib(bytes: number, digits = 1): string {
  return `${(bytes / 1024 / 1024).toFixed(digits)} MiB`;
}
