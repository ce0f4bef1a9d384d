import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../apps/device/src/common/clock';
import { StateFileAdapter } from '../../apps/device/src/common/state-file.adapter';
import { StateStore } from '../../apps/device/src/common/state-store';
import type { DeviceConfig } from '../../apps/device/src/config/device-config';
import { loadDeviceConfig } from '../../apps/device/src/config/load-device-config';
import { strictFake } from './strict-fake';

/**
 * A valid DeviceConfig for unit tests: what loadDeviceConfig makes of the required variables (so
 * every default of docs/protocol.md §5, and any setting added later, is there), then the overrides.
 */
export function deviceConfig(overrides: Partial<DeviceConfig> = {}): DeviceConfig {
  const loaded = loadDeviceConfig({
    HIVE_URL: 'https://hive.example.net',
    DEVICE_TOKEN: 'device-token-0123456789',
    DEVICE_PASSPHRASE: 'correct horse battery staple',
    DEVICE_NAME: 'test-device',
  });
  if (!loaded.ok) throw new Error(`the test config does not load:\n${loaded.errors.join('\n')}`);
  return { ...loaded.config, ...overrides };
}

/** Real temporary directories (fs.mkdtempSync under os.tmpdir()), removed by `cleanup()`. */
export class TempDirs {
  private readonly made: string[] = [];

  make(prefix = 'mosaic-device-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.made.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.made.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** A Clock that stands still until the test moves it. */
export class FakeClock {
  private current: Date;

  constructor(iso = '2026-11-25T10:00:00.000Z') {
    this.current = new Date(iso);
  }

  now(): Date {
    return new Date(this.current.getTime());
  }

  set(iso: string): void {
    this.current = new Date(iso);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }

  asClock(): Clock {
    return strictFake<Clock>(this, 'Clock');
  }
}

/** The device's STATE_DIR store over `config.stateDir`, as the common module builds it. */
export function stateStore(config: DeviceConfig, clock: Clock = new FakeClock().asClock()): StateStore {
  return new StateStore(config, new StateFileAdapter(), clock);
}
