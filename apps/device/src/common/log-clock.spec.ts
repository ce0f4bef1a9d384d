import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LogClockFormat, logTimestamp, restoreDateTimeFormat } from './log-clock';

const ROOT = join(__dirname, '../../../..');
/** The options Nest's ConsoleLogger gives its formatter. */
const NEST_OPTIONS: Intl.DateTimeFormatOptions = { year: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', day: '2-digit', month: '2-digit' };

describe('the log clock', () => {
  beforeAll(() => restoreDateTimeFormat());

  it('puts the real Intl.DateTimeFormat back', () => {
    expect(Intl.DateTimeFormat).not.toBe(LogClockFormat);
    expect(new Intl.DateTimeFormat('en-US').resolvedOptions().calendar).toBe('gregory');
  });

  it.each(['2026-12-06T00:00:05', '2026-12-06T09:07:42', '2026-12-06T12:00:00', '2026-12-06T19:06:42', '2026-01-31T23:59:59'])(
    'prints %s as Intl.DateTimeFormat does in en-US with Nest’s options',
    (local) => {
      const at = new Date(local); // no zone: local time, as both print it
      expect(logTimestamp(at)).toBe(new Intl.DateTimeFormat('en-US', NEST_OPTIONS).format(at));
      expect(new LogClockFormat().format(at.getTime())).toBe(logTimestamp(at));
    },
  );

  it('is what Nest’s logger formats with when main.ts loads it first', async () => {
    // A plain Node process: Jest has its own @nestjs/common loaded already.
    const probe = `
      const clock = require(${JSON.stringify(join(__dirname, 'log-clock.ts'))});
      let calls = 0;
      const format = clock.LogClockFormat.prototype.format;
      clock.LogClockFormat.prototype.format = function (at) { calls++; return format.call(this, at); };
      const { ConsoleLogger } = require('@nestjs/common');
      clock.restoreDateTimeFormat();
      const timestamp = new ConsoleLogger().getTimestamp();
      process.stdout.write(JSON.stringify({ timestamp, calls, restored: Intl.DateTimeFormat !== clock.LogClockFormat }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', join(ROOT, 'bench/support/register.js'), '-e', probe], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ timestamp: expect.stringMatching(/^\d\d\/\d\d\/\d{4}, \d{1,2}:\d\d:\d\d [AP]M$/), calls: 1, restored: true });
  }, 30_000);
});
