import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { version } from '../../package.json';
import type { TestHive } from '../../apps/hive/src/testing/test-hive';
import { E2E_PASSPHRASE, installCatalogApp, startE2eHive } from '../support/e2e-hive';
import { eventually } from '../support/eventually';
import { EngineProbe, httpGet } from '../support/engine';
import { IsolatedEngine } from '../support/isolated-engine';

jest.setTimeout(300_000);

const DEVICE_IMAGE = `mosaic/device:${version}`;
const PLUGIN_IMAGE = `mosaic/storage-plugin:${version}`;

/**
 * The way users run Mosaic: the Device *image* with an engine's socket mounted, nothing else.
 * It installs the storage plugin container itself, connects to Hive and runs a catalog app on
 * plugin volumes. The images are the ones scripts/build-images.sh built (the test command does).
 * The engine is one of the test's own, so the plugin it installs is never shown to the machine's.
 */
describe('the Device image on an engine of its own', () => {
  // Under /tmp: the engine's own mount namespace sees the machine's /tmp.
  const root = join('/tmp', `mosaic-deploy-${process.pid}`);
  let hive: TestHive;
  let engine: IsolatedEngine;
  let probe: EngineProbe;
  let deviceId: string;

  beforeAll(async () => {
    for (const dir of ['socket', 'volumes', 'replicas']) mkdirSync(join(root, dir), { recursive: true });
    engine = await IsolatedEngine.start();
    probe = new EngineProbe(engine.socket);
    await engine.loadImages(DEVICE_IMAGE, PLUGIN_IMAGE);
    // The device container reaches Hive through the engine's bridge, as a device reaches a Hive on the network.
    hive = await startE2eHive(join(root, 'hive.db'), undefined, engine.gateway);
    const created = await hive.api.post('/api/devices', { name: 'container' });
    deviceId = created.body.id;
    await engine.docker(
      'run', '-d', '--name', 'mosaic-device',
      // The image's HEALTHCHECK, checked every 2 s here instead of 30 s.
      '--health-interval', '2s',
      '-v', `${engine.socket}:/var/run/docker.sock`,
      '-v', `${join(root, 'socket')}:/tmp/mosaic`,
      '-e', `HIVE_URL=${hive.url}`,
      '-e', `DEVICE_TOKEN=${created.body.token}`,
      '-e', `DEVICE_PASSPHRASE=${E2E_PASSPHRASE}`,
      '-e', `VOLUMES_DIR=${join(root, 'volumes')}`,
      '-e', `REPLICA_URL=${join(root, 'replicas')}`,
      '-e', 'REPORT_VOLUMES_INTERVAL_S=2',
      DEVICE_IMAGE,
    );
  });

  afterAll(async () => {
    if (engine && process.env.DEVICE_TEST_LOG) {
      const logs = await engine.docker('logs', '--tail', '40', 'mosaic-device').catch(() => '');
      if (logs) process.stdout.write(`device container, last lines:\n${logs}\n`);
    }
    await engine?.stop();
    await hive?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('installs and starts the storage plugin container on first boot', async () => {
    const plugin = await eventually(
      'the plugin container running',
      () => probe.docker.listContainers({ all: true, filters: { label: ['io.mosaic.component=storage-plugin'] } }),
      (list) => list.length === 1 && list[0].State === 'running',
      120_000,
    );
    expect(plugin[0].Image).toBe(PLUGIN_IMAGE);
    expect(plugin[0].Names).toEqual(['/mosaic-storage-plugin']);
  });

  it('connects to Hive and turns healthy by the image HEALTHCHECK (Hive link, passphrase proof, plugin)', async () => {
    await eventually('the device authenticated in Hive', () => hive.api.get(`/api/devices/${deviceId}`), (r) => r.body.authenticated === true, 120_000);
    const health = await eventually(
      'the device container healthy',
      async () => (await probe.docker.getContainer('mosaic-device').inspect()).State.Health,
      (h) => h?.Status === 'healthy',
      120_000,
    );
    expect(health!.Log.at(-1)!.Output).toContain('"status":"ok"');
  });

  it('runs a catalog app on plugin volumes and serves its page, then stops it with its data replicated', async () => {
    const app = await installCatalogApp(hive, deviceId, 'static-site', { SITE_TITLE: 'Shipped in a container' }, 180_000);
    const { instance } = app;
    for (const role of ['app', 'link']) {
      const volume = await probe.docker.getVolume(`mosaic-${instance}-${role}`).inspect();
      expect(volume.Driver).toBe('mosaic');
      expect(volume.Mountpoint.startsWith(join(root, 'volumes'))).toBe(true);
    }
    const port = await probe.publishedPort(app.containers[0].containerId, 8080);
    const page = await httpGet(port);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Shipped in a container');

    const stopped = await hive.api.post(`/api/apps/${instance}/stop`, { timeoutSeconds: 120 });
    expect(stopped.body.command).toMatchObject({ status: 'succeeded', result: { state: 'stopped' } });
    expect(stopped.body.command.result.volumes.every((v: { lastReplicatedAt: unknown }) => typeof v.lastReplicatedAt === 'string')).toBe(true);
  });
});
