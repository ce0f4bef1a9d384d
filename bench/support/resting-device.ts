import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { E2E_PASSPHRASE, installCatalogApp, startE2eHive } from '../../test/support/e2e-hive';
import { tempRoot } from '../../test/support/device-harness';
import { deviceNodeFlags } from '../../test/support/device-node-flags';
import { DeviceProcess } from '../../test/support/device-process';
import { pluginConfig, startPlugin } from '../../test/support/storage-plugin';
import { Bench } from './bench';
import { ensureBuilt } from './build';
import { mib } from './proc-usage';
import { isolatedEngine, temporaryFolder } from './resources';

export interface RestingDevice {
  device: DeviceProcess;
  deviceId: string;
  hive: Awaited<ReturnType<typeof startE2eHive>>;
}

/**
 * What the memory benches measure: a Device process (as the image starts it: the Dockerfile's
 * Node flags, or BENCH_DEVICE_NODE_ARGS to compare others) connected to a Hive, with its storage
 * plugin and two running static-site apps on an engine of its own. `env` adds Device settings.
 */
export async function startRestingDevice(bench: Bench, label: string, env: Record<string, string> = {}): Promise<RestingDevice> {
  await bench.step('the Device build (dist/apps/device/main.js)', 300, () => ensureBuilt('device'));
  const root = await temporaryFolder(bench, () => tempRoot(`bench-${label}`));
  const engine = await isolatedEngine(bench);
  const driver = `mosaic-bench-${randomBytes(3).toString('hex')}`;
  const plugin = await bench.resource(
    'the storage plugin',
    60,
    () => startPlugin(pluginConfig(join(root.path, 'plugin'), { STORAGE_DRIVER: driver, DOCKER_PLUGIN_DIR: engine.pluginDir })),
    (p) => p.close(),
  );
  const hive = await bench.resource(
    'the Hive',
    60,
    () => startE2eHive(join(root.path, 'hive.db')),
    (h) => h.close(),
  );
  const created = await bench.step('POST /api/devices', 30, () => hive.api.post('/api/devices', { name: label }));
  // BENCH_DEVICE_NODE_ARGS replaces the image's Node flags (split on spaces, no shell), to compare them.
  const override = process.env.BENCH_DEVICE_NODE_ARGS;
  const nodeArgs = override !== undefined ? override.split(/\s+/).filter(Boolean) : deviceNodeFlags();
  console.log(`device node flags: ${nodeArgs.join(' ') || '(none)'}${override !== undefined ? ' (BENCH_DEVICE_NODE_ARGS)' : ' (the image’s)'}`);
  const device = new DeviceProcess(
    {
      HIVE_URL: hive.url,
      DEVICE_TOKEN: created.body.token,
      DEVICE_PASSPHRASE: E2E_PASSPHRASE,
      DOCKER_HOST: `unix://${engine.socket}`,
      STORAGE_DRIVER: driver,
      STORAGE_PLUGIN_SOCKET: plugin.config.controlSocket,
      APPS_DIR: join(root.path, 'apps'),
      STATE_DIR: join(root.path, 'state'),
      VOLUMES_DIR: plugin.config.dataDir,
      LOG_LEVEL: 'log',
      ...env,
    },
    nodeArgs,
  );
  bench.cleanup('stopping the Device process', () => device.stop());
  await bench.step('the Device to log that it is authenticated', 60, () => device.waitForLine(/authenticated as device/));
  for (const title of ['first', 'second']) {
    await bench.step(`the ${title} static-site running with both volumes reported`, 180, () =>
      installCatalogApp(hive.api, created.body.id, 'static-site', { SITE_TITLE: `${label} ${title}` }),
    );
  }
  return { device, deviceId: created.body.id, hive };
}

/** Heap and external memory from the Device's /metrics, to tell what of its RSS is V8's heap. */
export async function memoryBreakdown(device: DeviceProcess): Promise<string> {
  try {
    const text = await (await fetch(`${await device.monitorUrl()}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^mosaic_device_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return [
      `heap used ${mib(value('nodejs_heap_size_used_bytes'))}`,
      `heap total ${mib(value('nodejs_heap_size_total_bytes'))}`,
      `external ${mib(value('nodejs_external_memory_bytes'))}`,
    ].join(', ');
  } catch (err) {
    return `unavailable (${(err as Error).message})`;
  }
}
