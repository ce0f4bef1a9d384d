import { SingleBar } from 'cli-progress';
import type { Io } from './io';

/** Rows as an aligned table with a header, or `(none)`. */
export function table(headers: string[], rows: Array<Array<string | number | boolean | null | undefined>>): string {
  if (rows.length === 0) return '(none)\n';
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** How a long action is shown: a bar on a terminal, a line per change of stage otherwise (logs, pipes). */
export interface Progress {
  update(percent: number, stage: string): void;
  stop(): void;
}

export function progress(io: Io, title: string): Progress {
  if (io.stderr.isTTY) {
    const bar = new SingleBar(
      { format: `${title} [{bar}] {percent}% {stage}`, stream: io.stderr as NodeJS.WritableStream, hideCursor: true, clearOnComplete: false },
      { format: '', barCompleteChar: '#', barIncompleteChar: '.' },
    );
    bar.start(100, 0, { stage: '' });
    return { update: (percent, stage) => bar.update(Math.round(percent), { stage }), stop: () => bar.stop() };
  }
  let last = '';
  return {
    update(percent, stage) {
      const line = `${title}: ${stage}${percent > 0 ? ` (${Math.round(percent)}%)` : ''}`;
      if (line !== last) io.stderr.write(`${line}\n`);
      last = line;
    },
    stop() {},
  };
}
