import { deviceConfig, FakeClock } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { OutboxService } from '../hive/outbox.service';
import { DeviceMetrics } from '../metrics/device-metrics';
import { PluginVolume } from '../storage/storage-control.client';
import { StorageService, StorageStatus } from '../storage/storage.service';
import { StateDirStatus, StateStore } from '../common/state-store';
import { DeviceHealthService, EngineStatus } from './device-health.service';
import { StateGauges } from './state-gauges';

const NOW = '2026-11-25T10:00:00.000Z';
const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';

function volume(role: 'app' | 'link', lastReplicatedAt: string | null, state: 'idle' | 'error' = 'idle'): PluginVolume {
  return {
    name: `mosaic-${INSTANCE}-${role}`,
    instance: INSTANCE,
    role,
    fingerprint: 'a'.repeat(40),
    mountpoint: '/v',
    mounts: 0,
    sizeBytes: 1,
    lastReplicatedAt,
    replication: { state },
    writer: 'w',
    isWriter: true,
  };
}

describe('StateGauges', () => {
  let answers: StorageStatus[];
  let asked: number;
  let metrics: DeviceMetrics;
  let hive: { connected: boolean; authenticated: boolean };
  let engine: EngineStatus;
  let stateDir: StateDirStatus;

  beforeEach(() => {
    answers = [];
    asked = 0;
    metrics = new DeviceMetrics();
    hive = { connected: true, authenticated: false };
    engine = { reachable: true, version: '20.10.24' };
    stateDir = { writable: true };
    const status = async () => {
      asked++;
      return answers.shift()!;
    };
    new StateGauges(
      deviceConfig({ deviceName: 'nas' }),
      metrics,
      strictFake<HiveConnectionService>(hive, 'HiveConnectionService'),
      strictFake<OutboxService>({ depthByKind: () => ({ report: 2, result: 1 }) }, 'OutboxService'),
      strictFake<StorageService>({ status }, 'StorageService'),
      new FakeClock(NOW).asClock(),
      strictFake<StateStore>({ status: () => stateDir }, 'StateStore'),
      strictFake<DeviceHealthService>({ engineStatus: async () => engine }, 'DeviceHealthService'),
    ).onModuleInit();
  });

  it('asks the plugin once per scrape for all its gauges, and afresh at the next scrape', async () => {
    answers.push(
      { reachable: true, version: '0.1.0', volumes: [volume('app', '2026-11-25T09:59:00.000Z'), volume('link', null)] },
      { reachable: false, error: 'ECONNREFUSED', volumes: [volume('app', '2026-11-25T09:59:00.000Z')] },
    );
    const first = await metrics.registry.metrics();
    expect(asked).toBe(1);
    expect(first).toContain('mosaic_device_storage_plugin_up 1');
    expect(first).toContain(`mosaic_device_volume_replication_lag_seconds{volume="mosaic-${INSTANCE}-app",instance="${INSTANCE}",role="app"} 60`);
    expect(first).not.toContain(`volume="mosaic-${INSTANCE}-link",instance="${INSTANCE}",role="link"} 60`);
    expect(first).toContain(`mosaic_device_volume_replication_error{volume="mosaic-${INSTANCE}-app",instance="${INSTANCE}",role="app"} 0`);

    const second = await metrics.registry.metrics();
    expect(asked).toBe(2);
    expect(second).toContain('mosaic_device_storage_plugin_up 0');
    expect(second).toContain(`mosaic_device_volume_replication_error{volume="mosaic-${INSTANCE}-app",instance="${INSTANCE}",role="app"} 1`);
    expect(second).not.toContain(`role="link"`);
  });

  it('reads the Hive link and the outbox at scrape time', async () => {
    answers.push({ reachable: true, version: '0.1.0', volumes: [] });
    const text = await metrics.registry.metrics();
    expect(text).toContain('mosaic_device_hive_connected 1');
    expect(text).toContain('mosaic_device_hive_authenticated 0');
    expect(text).toContain('mosaic_device_outbox_depth{kind="report"} 2');
    expect(text).toContain('mosaic_device_outbox_depth{kind="result"} 1');
    expect(text).toMatch(/mosaic_device_info\{version="\d+\.\d+\.\d+",name="nas"\} 1/);
  });

  it('says whether the engine answers and whether STATE_DIR takes writes', async () => {
    answers.push({ reachable: true, version: '0.1.0', volumes: [] }, { reachable: true, version: '0.1.0', volumes: [] });
    const healthy = await metrics.registry.metrics();
    expect(healthy).toContain('mosaic_device_engine_up 1');
    expect(healthy).toContain('mosaic_device_state_dir_writable 1');
    engine = { reachable: false, error: 'did not answer' };
    stateDir = { writable: false, error: 'ENOSPC: no space left on device, write', since: NOW };
    const failing = await metrics.registry.metrics();
    expect(failing).toContain('mosaic_device_engine_up 0');
    expect(failing).toContain('mosaic_device_state_dir_writable 0');
  });
});
