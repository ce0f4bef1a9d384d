import { execFileSync } from 'node:child_process';
import { engine } from '../support/engine';
import { MIN_COMPOSE, MIN_ENGINE, compareVersions } from '../../apps/device/src/system/supported-versions';

/**
 * The suite runs on the oldest engine and Compose Mosaic says it supports (README "Supported
 * versions"), so every other test here proves that floor. Raising a floor, or the machine's
 * versions, means changing both together.
 */
describe('the versions this suite runs on', () => {
  const majorMinor = (v: string) => v.replace(/^v/, '').split('.').slice(0, 2).join('.');

  it('is the oldest Docker Engine Mosaic supports', async () => {
    const version = await engine.version();
    expect(majorMinor(version.Version)).toBe(MIN_ENGINE.version);
    expect(compareVersions(version.ApiVersion, MIN_ENGINE.api)).toBe(0);
  });

  it('is the oldest Compose Mosaic supports', () => {
    const compose = execFileSync('docker', ['compose', 'version', '--short'], { encoding: 'utf8' }).trim();
    expect(majorMinor(compose)).toBe(majorMinor(MIN_COMPOSE));
  });

  it('has a restic that speaks --retry-lock and snapshot summaries (0.17 or newer)', () => {
    const restic = execFileSync('restic', ['version'], { encoding: 'utf8' }).split(' ')[1];
    expect(compareVersions(restic, '0.17.0')).toBeGreaterThanOrEqual(0);
  });
});
