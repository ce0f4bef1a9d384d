import { readFileSync } from 'node:fs';

/**
 * Below this many bytes read or written between two checks, a process is idle: a Go program
 * waiting on a silent socket still reads a few bytes now and then (its poller's wake-ups).
 */
export const IO_PROGRESS_MIN_BYTES = 4096;

/**
 * At or above this much CPU time between two checks, a process is working (restic deriving a key
 * with scrypt does no I/O for a second or more, longer on a loaded machine); one waiting on a
 * silent socket uses a few milliseconds a minute.
 */
export const CPU_PROGRESS_MIN_MS = 20;

/** Linux's USER_HZ: /proc counts CPU time in these ticks on every architecture it runs on. */
const TICKS_PER_S = 100;

/** What a process has done so far: bytes read and written (files, sockets, its pipes) and CPU time. */
export interface ProcessWork {
  ioBytes: number;
  cpuMs: number;
}

/** A process's work so far, from /proc; undefined where that cannot be read (it is gone, or no /proc). */
export function processWork(pid: number): ProcessWork | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const read = /^rchar: (\d+)$/m.exec(io);
    const written = /^wchar: (\d+)$/m.exec(io);
    // The command name in parentheses may hold spaces and parentheses: the fields follow the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime and stime, fields 14 and 15 of stat
    if (!read || !written || !Number.isSafeInteger(ticks)) return undefined;
    return { ioBytes: Number(read[1]) + Number(written[1]), cpuMs: (ticks * 1000) / TICKS_PER_S };
  } catch {
    return undefined;
  }
}

/**
 * Calls `stalled` once when nothing has progressed for `stallMs`: `progressed()` was not called
 * (restic printed no new progress), and at every check the I/O counter moved by less than
 * IO_PROGRESS_MIN_BYTES and the CPU time by less than CPU_PROGRESS_MIN_MS. Checked a few times per
 * period, so a stall is seen within `stallMs` plus a quarter of it (at most 5 s more).
 */
export class StallWatchdog {
  private lastProgress = 0;
  private last?: ProcessWork;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly stallMs: number,
    private readonly work: () => ProcessWork | undefined,
    private readonly stalled: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.lastProgress = this.now();
    this.last = this.work();
    this.timer = setInterval(() => this.check(), Math.min(5000, Math.max(100, this.stallMs / 4)));
  }

  progressed(): void {
    this.lastProgress = this.now();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const work = this.work();
    const last = this.last;
    if (work && last && (work.ioBytes - last.ioBytes >= IO_PROGRESS_MIN_BYTES || work.cpuMs - last.cpuMs >= CPU_PROGRESS_MIN_MS)) this.progressed();
    this.last = work;
    if (this.now() - this.lastProgress < this.stallMs) return;
    this.stop();
    this.stalled();
  }
}

/** The longest start of a line kept to judge it; a longer line (a big JSON answer) is output anyway. */
const LINE_KEPT = 64 * 1024;

/**
 * Reads restic's stdout for signs of progress: with `--json` it prints status lines while it works
 * (`files_done`, `bytes_done`, `percent_done`). A status line that says more is done than the last
 * one is progress, a repeated one is not; any other output (a summary, an answer) is.
 */
export class ResticProgress {
  private line = '';
  private lastDone = '';

  /** `onPercent` hears each status line's `percent_done` (0 to 1). */
  constructor(private readonly onPercent?: (fraction: number) => void) {}

  /** True when the chunk holds progress. */
  feed(chunk: string): boolean {
    let progressed = false;
    const parts = chunk.split('\n');
    parts.forEach((part, index) => {
      if (this.line.length < LINE_KEPT) this.line += part.slice(0, LINE_KEPT - this.line.length);
      if (index === parts.length - 1) return; // the line goes on in the next chunk
      progressed = this.judge(this.line) || progressed;
      this.line = '';
    });
    return progressed;
  }

  private judge(line: string): boolean {
    if (!line.trim()) return false;
    if (!line.startsWith('{"message_type":"status"')) return true;
    try {
      const status = JSON.parse(line) as { files_done?: number; bytes_done?: number; percent_done?: number };
      if (typeof status.percent_done === 'number' && Number.isFinite(status.percent_done)) this.onPercent?.(status.percent_done);
      const done = `${status.files_done ?? 0}/${status.bytes_done ?? 0}/${status.percent_done ?? 0}`;
      if (done === this.lastDone) return false;
      this.lastDone = done;
      return true;
    } catch {
      return true;
    }
  }
}
