import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deviceNodeFlags } from '../../../test/support/device-node-flags';

const ROOT = join(__dirname, '../../..');

/**
 * What main.ts's first import leaves loaded, in a plain Node process with the image's flags (Jest
 * has Nest and much else loaded already): Nest, and neither ICU's data nor undici.
 */
async function probe(preload: boolean): Promise<{ undici: boolean; core: boolean; realDateTimeFormat: boolean; wsGetter: boolean; timestamps: string[]; calls: number }> {
  const script = `
    const clock = require(${JSON.stringify(join(__dirname, 'common/log-clock.ts'))});
    let calls = 0;
    const format = clock.LogClockFormat.prototype.format;
    clock.LogClockFormat.prototype.format = function (at) { calls++; return format.call(this, at); };
    ${preload ? `require(${JSON.stringify(join(__dirname, 'nest-preload.ts'))});` : "require('reflect-metadata'); require('@nestjs/core');"}
    const { ConsoleLogger, Logger } = require('@nestjs/common');
    const timestamps = [new ConsoleLogger().getTimestamp(), Logger.getTimestamp()];
    process.stdout.write(JSON.stringify({
      undici: process.moduleLoadList.some((m) => m.includes('undici')),
      core: typeof require('@nestjs/core').NestFactory === 'object',
      realDateTimeFormat: String(Intl.DateTimeFormat).includes('[native code]'),
      wsGetter: typeof Object.getOwnPropertyDescriptor(require('node:http'), 'WebSocket').get === 'function',
      timestamps,
      calls,
    }));`;
  const { stdout } = await promisify(execFile)(process.execPath, [...deviceNodeFlags(), '-r', join(ROOT, 'bench/support/register.js'), '-e', script], {
    cwd: ROOT,
  });
  return JSON.parse(stdout);
}

describe('nest-preload (main.ts’s first import)', () => {
  it('loads Nest with its loggers on the log clock and without undici, leaving the real Intl.DateTimeFormat and http getters', async () => {
    expect(await probe(true)).toEqual({
      undici: false,
      core: true,
      realDateTimeFormat: true,
      wsGetter: true,
      timestamps: [expect.stringMatching(/^\d\d\/\d\d\/\d{4}, \d{1,2}:\d\d:\d\d [AP]M$/), expect.stringMatching(/^\d\d\/\d\d\/\d{4}, \d{1,2}:\d\d:\d\d [AP]M$/)],
      calls: 2,
    });
  }, 60_000);

  it('is what keeps them out: Nest loaded plainly brings undici and formats with ICU', async () => {
    expect(await probe(false)).toMatchObject({ undici: true, core: true, calls: 0 });
  }, 60_000);
});
