import { randomUUID } from 'node:crypto';
import { staticSiteTemplate, startParams } from '../support/compose-templates';
import { RunningDevice, tempRoot } from '../support/device-harness';
import { DeviceStack, startDeviceStack } from '../support/device-stack';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text';

jest.setTimeout(120_000);

/** One sample of a scrape, parsed strictly; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return sampleValue(parsePrometheusText(text), name, labels);
}

describe('health and metrics over HTTP, on a real engine with the real storage plugin', () => {
  const root = tempRoot('monitor');
  const instance = randomUUID();
  let stack: DeviceStack;
  let device: RunningDevice;
  const get = (path: string) => fetch(`${device.monitorUrl}${path}`);

  beforeAll(async () => {
    stack = await startDeviceStack(root.path);
    device = stack.device;
  });

  afterAll(async () => {
    await stack?.probe.removeInstance(instance).catch(() => undefined);
    await stack?.close().catch(() => undefined);
    root.remove();
  });

  it('is healthy when Hive accepted the device and the plugin answers', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      hive: { connected: true, authenticated: true },
      storagePlugin: { reachable: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) },
      engine: { reachable: true, version: expect.stringMatching(/^\d+\.\d+/) },
      stateDir: { writable: true },
    });
  });

  it('is unhealthy (503) while Hive has not accepted the device, and says so', async () => {
    device.hive.authenticated = false;
    try {
      const res = await get('/health');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'unhealthy', hive: { connected: true, authenticated: false }, storagePlugin: { reachable: true } });
    } finally {
      device.hive.authenticated = true;
    }
  });

  it('counts commands, restores and replication lag per volume after an app starts and stops', async () => {
    expect((await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()))).result.ok).toBe(true);
    expect((await device.command('SchedulerAction.stop', { instance })).result.ok).toBe(true);
    expect((await device.command('Nonsense.run', {})).ack.accepted).toBe(false);

    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'mosaic_device_commands_total', { type: 'SchedulerAction.start', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'mosaic_device_commands_total', { type: 'SchedulerAction.stop', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'mosaic_device_commands_total', { type: 'unknown', outcome: 'UNKNOWN_COMMAND' })).toBe(1);
    expect(sample(text, 'mosaic_device_restores_total', { outcome: 'ok' })).toBe(2);
    expect(sample(text, 'mosaic_device_storage_plugin_up')).toBe(1);
    expect(sample(text, 'mosaic_device_hive_authenticated')).toBe(1);
    expect(sample(text, 'mosaic_device_outbox_depth', { kind: 'result' })).toBe(0);
    for (const role of ['app', 'link']) {
      const labels = { volume: `mosaic-${instance}-${role}`, instance, role };
      const lag = sample(text, 'mosaic_device_volume_replication_lag_seconds', labels);
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThan(120); // the stop replicated it just now
      expect(sample(text, 'mosaic_device_volume_replication_error', labels)).toBe(0);
    }
    expect(text).not.toContain('mosaic_device_restore_progress_ratio{'); // no restore is running
  });

  it('serves the module graph only when DEVTOOLS is on', async () => {
    expect((await get('/devtools/graph')).status).toBe(404);
  });

  it('turns unhealthy, and the plugin gauge to 0, when the plugin stops answering', async () => {
    await stack.plugin.close();
    const res = await get('/health');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', storagePlugin: { reachable: false, error: expect.any(String) } });
    const text = await (await get('/metrics')).text();
    expect(sample(text, 'mosaic_device_storage_plugin_up')).toBe(0);
    expect(sample(text, 'mosaic_device_volume_replication_error', { volume: `mosaic-${instance}-app`, instance, role: 'app' })).toBe(1);
  });
});
