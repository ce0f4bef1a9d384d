import { readFileSync } from 'node:fs';

/**
 * Below this many bytes read or written between two checks, a process is idle: a Go program
 * waiting on a silent socket still reads a few bytes now and then (its poller's wake-ups).
 */
export const IO_PROGRESS_MIN_BYTES = 4096;

/**
 * The bytes a process has read and written so far (files and sockets alike, its output pipes too),
 * from /proc; undefined where that cannot be read.
 */
export function processIoBytes(pid: number): number | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const read = /^rchar: (\d+)$/m.exec(io);
    const written = /^wchar: (\d+)$/m.exec(io);
    return read && written ? Number(read[1]) + Number(written[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calls `stalled` once when nothing has progressed for `stallMs`: `progressed()` was not called
 * (restic printed no new progress) and the I/O counter moved by less than IO_PROGRESS_MIN_BYTES
 * at every check. Checked a few times per period, so a stall is seen within `stallMs` plus a
 * quarter of it (at most 5 s more).
 */
export class StallWatchdog {
  private lastProgress = 0;
  private lastIo?: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly stallMs: number,
    private readonly ioBytes: () => number | undefined,
    private readonly stalled: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.lastProgress = this.now();
    this.lastIo = this.ioBytes();
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
    const io = this.ioBytes();
    if (io !== undefined && this.lastIo !== undefined && io - this.lastIo >= IO_PROGRESS_MIN_BYTES) this.progressed();
    this.lastIo = io;
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
