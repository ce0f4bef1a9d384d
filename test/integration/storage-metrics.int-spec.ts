import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text';
import { RunningPlugin, generateKey, pluginConfig, pluginRoot, randomName, startPlugin } from '../support/storage-plugin';

jest.setTimeout(60_000);

const HEALTHCHECK = join(__dirname, '../../apps/storage-plugin/healthcheck.js');

/** The image's HEALTHCHECK command against a control socket: its exit status. */
function healthcheck(socket: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [HEALTHCHECK], { env: { STORAGE_PLUGIN_SOCKET: socket }, timeout: 10_000 });
    child.on('exit', (code) => resolve(code));
  });
}

/** The plugin's metrics, scraped and parsed: real restic on a local replica, the plugin in-process. */
describe('storage plugin metrics', () => {
  const root = pluginRoot('metrics');
  let plugin: RunningPlugin;

  beforeAll(async () => {
    plugin = await startPlugin(pluginConfig(join(root.path, 'a'), { REPLICA_URL: join(root.path, 'replicas'), STORAGE_METRICS_ADDRESS: '127.0.0.1:0' }));
  });

  afterAll(async () => {
    await plugin?.close();
    root.remove();
  });

  it("passes the image's HEALTHCHECK while the control socket answers, and fails it where nothing does", async () => {
    expect(await healthcheck(plugin.config.controlSocket)).toBe(0);
    expect(await healthcheck(join(root.path, 'nothing.sock'))).toBe(1);
  });

  it('counts replications with their bytes, restores, and each volume lag, on the control socket and STORAGE_METRICS_ADDRESS alike', async () => {
    const key = await generateKey();
    expect((await plugin.control.registerKey(key)).status).toBe(200);
    const name = randomName();
    const request = { name, instance: randomUUID(), role: 'app', fingerprint: key.fingerprint, writer: randomUUID() };
    const created = await plugin.control.createVolume(request);
    expect(created.status).toBe(200);
    writeFileSync(join(created.body.volume.mountpoint, 'notes.txt'), 'x'.repeat(100_000));
    expect((await plugin.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    expect((await plugin.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
    expect((await plugin.control.createVolume(request)).status).toBe(200); // restored from its replica

    const overSocket = await plugin.control.request('GET', '/metrics');
    expect(overSocket.status).toBe(200);
    expect(overSocket.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const overTcp = await fetch(`${plugin.metricsUrl}/metrics`);
    expect(overTcp.status).toBe(200);

    for (const samples of [parsePrometheusText(overSocket.text), parsePrometheusText(await overTcp.text())]) {
      expect(sampleValue(samples, 'mosaic_storage_replications_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1);
      // restic deduplicates and compresses: what it adds is at most the data plus its own overhead.
      expect(sampleValue(samples, 'mosaic_storage_replicated_bytes_total')).toBeGreaterThan(0);
      expect(sampleValue(samples, 'mosaic_storage_restores_total', { outcome: 'ok' })).toBe(1);
      expect(sampleValue(samples, 'mosaic_storage_restored_bytes_total')).toBe(100_000);
      expect(sampleValue(samples, 'mosaic_storage_volume_replication_lag_seconds', { volume: name })).toBeGreaterThanOrEqual(0);
      expect(sampleValue(samples, 'mosaic_storage_volume_replication_error', { volume: name })).toBe(0);
      expect(sampleValue(samples, 'mosaic_storage_volumes')).toBe(1);
      expect(sampleValue(samples, 'mosaic_storage_keys')).toBe(1);
    }
    const health = await fetch(`${plugin.metricsUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, volumes: 1, keys: 1 });
    expect((await fetch(`${plugin.metricsUrl}/volumes`)).status).toBe(404);
  });
});
