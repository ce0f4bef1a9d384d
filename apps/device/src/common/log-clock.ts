/**
 * Nest's ConsoleLogger formats its timestamps with an `Intl.DateTimeFormat` that @nestjs/common
 * makes when it loads (two of them: the console logger's and the Logger's). Making one loads ICU's
 * locale and time-zone data: ~8 MB of the resident Device, for the date in its log lines.
 *
 * So the Device loads @nestjs/common inside `withLogClock` (nest-preload.ts, main.ts's first
 * import), where `Intl.DateTimeFormat` stands in for the real one for that load only: asked exactly
 * as Nest asks (no locale, Nest's options) it answers a `LogClockFormat`, which prints the same text
 * from Date's own getters; asked any other way it makes the real thing. The real one is back as soon
 * as the load ends, whatever it did, so nothing else the Device loads ever sees the stand-in.
 *
 * The text is the en-US shape Nest prints by default, `12/06/2026, 7:06:42 PM`, in local time,
 * whatever the process's locale (LANG) says: a Device's log lines read the same everywhere.
 */

/** The options Nest's loggers give `Intl.DateTimeFormat`, with no locale. */
export const NEST_TIMESTAMP_OPTIONS: Readonly<Intl.DateTimeFormatOptions> = Object.freeze({
  year: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
  day: '2-digit',
  month: '2-digit',
});

const two = (n: number) => String(n).padStart(2, '0');

/** `MM/DD/YYYY, h:mm:ss AM` in local time. */
export function logTimestamp(at: Date | number = Date.now()): string {
  const d = new Date(at);
  const hours = d.getHours();
  return `${two(d.getMonth() + 1)}/${two(d.getDate())}/${d.getFullYear()}, ${hours % 12 || 12}:${two(d.getMinutes())}:${two(d.getSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}

/** What Nest's loggers get instead of a real formatter: they call `format` only. */
export class LogClockFormat {
  format(at?: Date | number): string {
    return logTimestamp(at);
  }

  resolvedOptions(): Intl.ResolvedDateTimeFormatOptions {
    return {
      locale: 'en-US',
      calendar: 'gregory',
      numberingSystem: 'latn',
      timeZone: process.env.TZ || 'local',
      hour12: true,
      hourCycle: 'h12',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: 'numeric',
      minute: '2-digit',
      second: '2-digit',
    };
  }
}

/** True when the call is Nest's own: no locale, and exactly its options. */
export function isNestTimestampCall(locales: unknown, options: unknown): boolean {
  if (locales !== undefined || options === null || typeof options !== 'object') return false;
  const given = Object.entries(options as Record<string, unknown>);
  const wanted = Object.entries(NEST_TIMESTAMP_OPTIONS);
  return given.length === wanted.length && wanted.every(([key, value]) => (options as Record<string, unknown>)[key] === value);
}

/**
 * An `Intl.DateTimeFormat` that answers Nest's call with a `LogClockFormat` and any other with
 * `real` (with or without `new`, as the real one may be called), keeping `real`'s statics.
 */
export function logClockDateTimeFormat(real: typeof Intl.DateTimeFormat): typeof Intl.DateTimeFormat {
  const standIn = function DateTimeFormat(locales?: string | string[], options?: Intl.DateTimeFormatOptions) {
    return isNestTimestampCall(locales, options) ? new LogClockFormat() : new real(locales, options);
  };
  standIn.prototype = real.prototype;
  standIn.supportedLocalesOf = real.supportedLocalesOf.bind(real);
  return standIn as unknown as typeof Intl.DateTimeFormat;
}

/** Runs `load` with the stand-in as `Intl.DateTimeFormat`; the real one is back afterwards, even when `load` throws. */
export function withLogClock<T>(load: () => T): T {
  const real = Intl.DateTimeFormat;
  Intl.DateTimeFormat = logClockDateTimeFormat(real);
  try {
    return load();
  } finally {
    Intl.DateTimeFormat = real;
  }
}
