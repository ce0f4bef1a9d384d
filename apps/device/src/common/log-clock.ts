/**
 * Nest's ConsoleLogger formats its timestamps with an `Intl.DateTimeFormat` that @nestjs/common
 * creates when it loads. Making one loads ICU's locale and time-zone data: ~8 MB of the resident
 * Device for the date in its log lines. main.ts imports this module first, so that while Nest
 * loads `Intl.DateTimeFormat` is `LogClockFormat`, which formats the same text from Date's own
 * getters; `restoreDateTimeFormat()` (main.ts's first statement) puts the real one back for
 * anything else. The text is the en-US shape Nest prints by default: `12/06/2026, 7:06:42 PM`.
 */

const REAL_DATE_TIME_FORMAT = Intl.DateTimeFormat;
const two = (n: number) => String(n).padStart(2, '0');

/** `MM/DD/YYYY, h:mm:ss AM` in local time. */
export function logTimestamp(at: Date | number = Date.now()): string {
  const d = new Date(at);
  const hours = d.getHours();
  return `${two(d.getMonth() + 1)}/${two(d.getDate())}/${d.getFullYear()}, ${hours % 12 || 12}:${two(d.getMinutes())}:${two(d.getSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}

/** Just what Nest's logger calls: `format`. */
export class LogClockFormat {
  format(at?: Date | number): string {
    return logTimestamp(at);
  }

  resolvedOptions(): { locale: string; timeZone: string } {
    return { locale: 'en-US', timeZone: process.env.TZ ?? 'local' };
  }
}

export function restoreDateTimeFormat(): void {
  Intl.DateTimeFormat = REAL_DATE_TIME_FORMAT;
}

Intl.DateTimeFormat = LogClockFormat as unknown as typeof Intl.DateTimeFormat;
