import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { version } from '../../package.json';
import { HiveApiClient } from '../../apps/hive/src/testing/hive-api-client';
import { ComposeDeployment } from '../support/compose-deployment';
import { installCatalogApp } from '../support/e2e-hive';
import { eventually } from '../support/eventually';
import { EngineProbe, httpGet } from '../support/engine';
import { IsolatedEngine } from '../support/isolated-engine';

jest.setTimeout(300_000);

const IMAGES = ['device', 'storage-plugin', 'hive'].map((name) => `mosaic/${name}:${version}`);
const ADMIN_TOKEN = 'deployment-admin-token-0123456789';

/**
 * The way users run Mosaic: the repository's compose.yaml with the built images (the test command
 * builds them), on an engine of the test's own so the storage plugin the Device installs is never
 * shown to the machine's engine. The Device gets the engine's socket and nothing else of Mosaic:
 * it installs the storage plugin container, connects to the Hive container and runs a catalog app
 * on plugin volumes.
 */
describe('compose.yaml: the Hive and Device images on an engine of their own', () => {
  // Under /tmp: the engine's own mount namespace sees the machine's /tmp.
  const root = join('/tmp', `mosaic-deploy-${process.pid}`);
  let engine: IsolatedEngine;
  let deployment: ComposeDeployment;
  let probe: EngineProbe;
  let hive: HiveApiClient;
  let hiveUrl: string;
  let deviceId: string;

  const compose = (...args: string[]) => deployment.compose(...args);

  beforeAll(async () => {
    engine = await IsolatedEngine.start();
    deployment = new ComposeDeployment(root, engine);
    // The images' HEALTHCHECK commands as they are, run every 2 s instead of every 30 s.
    deployment.override('services:\n  device:\n    healthcheck:\n      interval: 2s\n');
    probe = new EngineProbe(engine.socket);
    await engine.loadImages(...IMAGES);
    deployment.settings({
      MOSAIC_VERSION: version,
      HIVE_ADMIN_TOKEN: ADMIN_TOKEN,
      HIVE_PORT: '0',
      // The Device reaches the Hive at compose.yaml's http://hive:8080, on the project's own network.
      HIVE_ALLOW_INSECURE: 'true',
    });

    await compose('up', '-d', 'hive');
    const published = await compose('port', 'hive', '8080');
    hiveUrl = `http://${published}`;
    hive = new HiveApiClient(hiveUrl, ADMIN_TOKEN);
    await eventually(
      'the Hive container answering',
      // Until the Hive listens, the engine's port proxy may accept and hold a connection: each try gets 2 s.
      () => fetch(`http://${published}/api/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0),
      (status) => status === 200,
    );
    const created = await hive.post('/api/devices', { name: 'container' });
    expect(created.status).toBe(201);
    deviceId = created.body.id;
    writeFileSync(deployment.tokenFile, `${created.body.token}\n`, { mode: 0o600 });
    await compose('up', '-d', 'device');
  });

  afterAll(async () => {
    if (engine && process.env.DEVICE_TEST_LOG) process.stdout.write(await compose('logs', '--no-color', '--tail', '60').catch((e) => String(e)));
    await engine?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs the Hive as a non-root user, its database in its volume', async () => {
    const [container] = await probe.docker.listContainers({ filters: { label: ['com.docker.compose.service=hive'] } });
    const details = await probe.docker.getContainer(container.Id).inspect();
    expect(details.Config.User).toBe('node');
    expect(details.Mounts.map((m) => m.Destination)).toContain('/var/lib/mosaic-hive');
  });

  it('serves the Console built into the image at / and describes its API at /api/docs-json', async () => {
    const page = await fetch(`${hiveUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${hiveUrl}${script}`)).status).toBe(200);
    const document = await (await fetch(`${hiveUrl}/api/docs-json`)).json();
    expect(document).toMatchObject({ openapi: expect.stringMatching(/^3\./), info: { title: 'Mosaic Hive', version } });
  });

  it('has the Device install and start the storage plugin container on first boot', async () => {
    const plugin = await eventually(
      'the plugin container running',
      () => probe.docker.listContainers({ all: true, filters: { label: ['io.mosaic.component=storage-plugin'] } }),
      (list) => list.length === 1 && list[0].State === 'running',
      120_000,
    );
    expect(plugin[0].Image).toBe(`mosaic/storage-plugin:${version}`);
    expect(plugin[0].Names).toEqual(['/mosaic-storage-plugin']);
  });

  it('connects the Device to the Hive and turns it healthy by the image HEALTHCHECK (Hive link, passphrase proof, plugin)', async () => {
    await eventually('the device authenticated in Hive', () => hive.get(`/api/devices/${deviceId}`), (r) => r.body.authenticated === true, 120_000);
    const [device] = await probe.docker.listContainers({ filters: { label: ['com.docker.compose.service=device'] } });
    const health = await eventually(
      'the device container healthy',
      async () => (await probe.docker.getContainer(device.Id).inspect()).State.Health,
      (h) => h?.Status === 'healthy',
      120_000,
    );
    expect(health!.Log.some((probe) => probe.ExitCode === 0 && probe.Output.includes('"status":"ok"'))).toBe(true);
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

    const stopped = await hive.post(`/api/apps/${instance}/stop`, { timeoutSeconds: 120 });
    expect(stopped.body.command).toMatchObject({ status: 'succeeded', result: { state: 'stopped' } });
    expect(stopped.body.command.result.volumes.every((v: { lastReplicatedAt: unknown }) => typeof v.lastReplicatedAt === 'string')).toBe(true);
  });

  it('runs an app whose own files reach its container (configs from its folder) and its declared command', async () => {
    // notes mounts scripts from its compose folder: the engine reads them at the device's APPS_DIR path.
    const app = await installCatalogApp(hive, deviceId, 'notes', {}, 180_000);
    const ran = await hive.post(`/api/apps/${app.instance}/commands`, { command: 'add-note', args: { text: 'from the container' }, timeoutSeconds: 60 });
    expect(ran.body.command).toMatchObject({ status: 'succeeded', result: { exitCode: 0, stdout: 'added: from the container\n' } });
    const listed = await hive.post(`/api/apps/${app.instance}/commands`, { command: 'list-notes', timeoutSeconds: 60 });
    expect(listed.body.command.result.stdout).toContain('from the container');
    const stopped = await hive.post(`/api/apps/${app.instance}/stop`, { timeoutSeconds: 120 });
    expect(stopped.body.command).toMatchObject({ status: 'succeeded', result: { state: 'stopped' } });
    expect(stopped.body.command.result.volumes.every((v: { lastReplicatedAt: unknown }) => typeof v.lastReplicatedAt === 'string')).toBe(true);
  });
});
