import { execFileSync } from 'node:child_process';
import { deviceNodeFlags } from './device-node-flags';

describe('deviceNodeFlags', () => {
  it('reads the flags of the device stage’s CMD in the real Dockerfile, each one Node knows', () => {
    const flags = deviceNodeFlags();
    expect(flags).toEqual(['--max-semi-space-size=1', '--lite-mode', '--no-experimental-websocket']);
    // This Node accepts them (an unknown flag makes it exit with "bad option"), and so really runs with them.
    expect(execFileSync(process.execPath, [...flags, '-p', "require('v8').getHeapStatistics().total_available_size > 0"], { encoding: 'utf8' }).trim()).toBe('true');
    expect(() => execFileSync(process.execPath, ['--no-such-flag-here', '-e', '0'], { stdio: 'pipe' })).toThrow(/bad option/);
  });

  const dockerfile = (deviceCmd: string) =>
    ['FROM base AS runtime', 'CMD ["node", "other.js"]', 'FROM runtime AS device', 'RUN true', deviceCmd, 'FROM runtime AS hive', 'CMD ["node", "dist/apps/hive/main.js"]'].join('\n');

  it('takes what lies between "node" and the Device’s main file, in the device stage only', () => {
    expect(deviceNodeFlags(dockerfile('CMD ["node", "--a", "--b=1", "dist/apps/device/main.js"]'))).toEqual(['--a', '--b=1']);
    expect(deviceNodeFlags(dockerfile('CMD ["node", "dist/apps/device/main.js"]'))).toEqual([]);
  });

  it('fails clearly when the line is not what it reads', () => {
    expect(() => deviceNodeFlags(dockerfile('RUN false'))).toThrow(/device stage has no CMD/);
    expect(() => deviceNodeFlags(dockerfile('CMD ["bun", "dist/apps/device/main.js"]'))).toThrow(/is not "node \[flags…\]/);
    expect(() => deviceNodeFlags('FROM base AS hive\n')).toThrow(/no "FROM … AS device" stage/);
  });
});
