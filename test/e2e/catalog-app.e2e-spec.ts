import { join } from 'node:path';
import type { TestHive } from '../../apps/hive/src/testing/test-hive';
import { E2E_PASSPHRASE, installCatalogApp, startE2eHive } from '../support/e2e-hive';
import { eventually } from '../support/eventually';
import { DeviceProcess } from '../support/device-process';
import { tempRoot } from '../support/device-harness';
import { EngineProbe, httpGet } from '../support/engine';
import { IsolatedEngine } from '../support/isolated-engine';
import { RunningPlugin, pluginConfig, startPlugin } from '../support/storage-plugin';

jest.setTimeout(180_000);

/** A user's setup: Hive, a Device process, its storage plugin and engine; driven through REST only. */
describe('installing a catalog app through the Hive', () => {
  const root = tempRoot('e2e-catalog');
  let hive: TestHive;
  let engine: IsolatedEngine;
  let plugin: RunningPlugin;
  let device: DeviceProcess;
  let deviceId: string;

  beforeAll(async () => {
    hive = await startE2eHive(join(root.path, 'hive.db'));
    engine = await IsolatedEngine.start();
    plugin = await startPlugin(pluginConfig(join(root.path, 'plugin'), { DOCKER_PLUGIN_DIR: engine.pluginDir }));
    const created = await hive.api.post('/api/devices', { name: 'home' });
    deviceId = created.body.id;
    device = new DeviceProcess({
      HIVE_URL: hive.url,
      DEVICE_TOKEN: created.body.token,
      DEVICE_PASSPHRASE: E2E_PASSPHRASE,
      DOCKER_HOST: `unix://${engine.socket}`,
      STORAGE_PLUGIN_SOCKET: plugin.config.controlSocket,
      APPS_DIR: join(root.path, 'apps'),
      STATE_DIR: join(root.path, 'state'),
      VOLUMES_DIR: plugin.config.dataDir,
      REPORT_VOLUMES_INTERVAL_S: '1',
    });
    await device.waitForLine(/authenticated as device/);
  });

  afterAll(async () => {
    await device?.stop();
    await plugin?.close();
    await engine?.stop();
    await hive?.close();
    root.remove();
  });

  it('installs static-site, shows it running with its volumes, serves its page on loopback, and stops it', async () => {
    const catalog = await hive.api.get('/api/catalog');
    expect(catalog.body.map((app: any) => app.name)).toContain('static-site');

    const app = await installCatalogApp(hive.api, deviceId, 'static-site', { SITE_TITLE: 'Our family site' });
    const { instance } = app;
    expect(app.volumes.map((v: any) => v.role).sort()).toEqual(['app', 'link']);
    for (const volume of app.volumes) {
      expect(volume.fingerprint).toMatch(/^[0-9a-f]{40}$/);
      expect(volume.publicKey).toContain('BEGIN PGP PUBLIC KEY BLOCK');
    }

    const probe = new EngineProbe(engine.socket);
    const port = await probe.publishedPort(app.containers[0].containerId, 8080);
    const page = await httpGet(port);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Our family site');
    expect(page.body).toContain(instance);

    const stopped = await hive.api.post(`/api/apps/${instance}/stop`, { timeoutSeconds: 120 });
    expect(stopped.body.command).toMatchObject({ status: 'succeeded', result: { state: 'stopped' } });
    expect(stopped.body.command.result.volumes.every((v: any) => typeof v.lastReplicatedAt === 'string')).toBe(true);
    await eventually('the app reported stopped', () => hive.api.get(`/api/apps/${instance}`).then((r) => r.body), (v) => v.state === 'stopped');
  });
});
