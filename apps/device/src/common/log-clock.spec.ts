import { LogClockFormat, NEST_TIMESTAMP_OPTIONS, isNestTimestampCall, logClockDateTimeFormat, logTimestamp, withLogClock } from './log-clock';

const REAL = Intl.DateTimeFormat;

describe('the log clock', () => {
  it('leaves the real Intl.DateTimeFormat in place when loaded', () => {
    expect(Intl.DateTimeFormat).toBe(REAL);
    expect(new Intl.DateTimeFormat('en-US').resolvedOptions().calendar).toBe('gregory');
  });

  it.each(['2026-12-06T00:00:05', '2026-12-06T09:07:42', '2026-12-06T12:00:00', '2026-12-06T19:06:42', '2026-01-31T23:59:59'])(
    'prints %s as Intl.DateTimeFormat does in en-US with Nest’s options',
    (local) => {
      const at = new Date(local); // no zone: local time, as both print it
      expect(logTimestamp(at)).toBe(new Intl.DateTimeFormat('en-US', NEST_TIMESTAMP_OPTIONS).format(at));
      expect(new LogClockFormat().format(at.getTime())).toBe(logTimestamp(at));
    },
  );

  it('describes itself as the real one would for Nest’s call', () => {
    const real = new Intl.DateTimeFormat('en-US', NEST_TIMESTAMP_OPTIONS).resolvedOptions();
    const mine = new LogClockFormat().resolvedOptions();
    for (const key of ['locale', 'calendar', 'numberingSystem', 'year', 'month', 'day', 'hour', 'minute', 'second', 'hour12'] as const) {
      expect([key, mine[key]]).toEqual([key, real[key]]);
    }
  });

  describe('the stand-in', () => {
    const StandIn = logClockDateTimeFormat(REAL);

    it('answers exactly Nest’s call (no locale, its options, in any order) with the log clock', () => {
      const reordered = Object.fromEntries(Object.entries(NEST_TIMESTAMP_OPTIONS).reverse());
      expect(new StandIn(undefined, { ...NEST_TIMESTAMP_OPTIONS })).toBeInstanceOf(LogClockFormat);
      expect(new StandIn(undefined, reordered)).toBeInstanceOf(LogClockFormat);
    });

    it.each<[string, string | undefined, Intl.DateTimeFormatOptions | undefined]>([
      ['no options', undefined, undefined],
      ['a locale', 'de-DE', { ...NEST_TIMESTAMP_OPTIONS }],
      ['another option', undefined, { ...NEST_TIMESTAMP_OPTIONS, timeZone: 'UTC' }],
      ['one option fewer', undefined, { year: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', day: '2-digit' }],
      ['another value', undefined, { ...NEST_TIMESTAMP_OPTIONS, month: 'long' }],
    ])('makes the real one for any other call: %s', (_what, locale, options) => {
      const at = Date.UTC(2026, 11, 6, 19, 6, 42);
      const made = new StandIn(locale, options);
      expect(made).toBeInstanceOf(REAL);
      expect(made.format(at)).toBe(new REAL(locale, options).format(at));
    });

    it('works without new, as the real one does, and keeps its statics', () => {
      const call = StandIn as unknown as (l?: string, o?: Intl.DateTimeFormatOptions) => Intl.DateTimeFormat;
      expect(call(undefined, { ...NEST_TIMESTAMP_OPTIONS })).toBeInstanceOf(LogClockFormat);
      expect(call('en-GB', { year: 'numeric' })).toBeInstanceOf(REAL);
      expect(StandIn.supportedLocalesOf(['en-US'])).toEqual(['en-US']);
    });

    it('tells Nest’s call from others', () => {
      expect(isNestTimestampCall(undefined, { ...NEST_TIMESTAMP_OPTIONS })).toBe(true);
      expect(isNestTimestampCall('en-US', { ...NEST_TIMESTAMP_OPTIONS })).toBe(false);
      expect(isNestTimestampCall(undefined, null)).toBe(false);
      expect(isNestTimestampCall(undefined, 'numeric')).toBe(false);
    });
  });

  it('stands in only while the load runs, and puts the real one back when the load throws', () => {
    expect(withLogClock(() => Intl.DateTimeFormat === REAL)).toBe(false);
    expect(() =>
      withLogClock(() => {
        throw new Error('a load that fails');
      }),
    ).toThrow('a load that fails');
    expect(Intl.DateTimeFormat).toBe(REAL);
  });
});
