import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '@mosaic/protocol';
import { RestServer } from '../support/rest-server';
import {
  RunningPlugin,
  TestKey,
  dockerCall,
  generateKey,
  pluginConfig,
  pluginRoot,
  randomName,
  startPlugin,
} from '../support/storage-plugin';
import { TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(120_000);

const STALL_S = 3;

/**
 * A replica store that stops answering mid-way (a TCP proxy that stops forwarding, in front of a
 * real restic REST server): restic would wait for ever. The plugin stops a restic run that makes
 * no progress for RESTIC_STALL_TIMEOUT_S, fails the operation clearly, and frees the volume.
 */
describe('storage plugin: a replica store that stalls', () => {
  const root = pluginRoot('stall');
  const store = join(root.path, 'rest-store');
  const server = new RestServer(store);
  let proxy: TcpProxy;
  let plugin: RunningPlugin;
  let key: TestKey;
  const device = randomUUID();

  beforeAll(async () => {
    mkdirSync(store, { recursive: true });
    await server.start();
    proxy = new TcpProxy(server.port);
    await proxy.start();
    plugin = await startPlugin(
      pluginConfig(join(root.path, 'p'), {
        REPLICA_URL: `rest:http://127.0.0.1:${proxy.port}/`,
        RESTIC_STALL_TIMEOUT_S: String(STALL_S),
        REPLICATION_RETRY_BASE_S: '3600',
        REPLICATION_RETRY_MAX_S: '3600',
      }),
    );
    key = await generateKey();
    expect((await plugin.control.registerKey(key)).status).toBe(200);
  });

  afterAll(async () => {
    proxy?.resume();
    await plugin?.close();
    await proxy?.cut();
    await server.stop();
    root.remove();
  });

  it('stops a snapshot that makes no progress, says so, frees the volume, and replicates once the store answers again', async () => {
    const name = randomName();
    const created = await plugin.control.createVolume({
      name,
      instance: randomUUID(),
      role: 'app',
      fingerprint: key.fingerprint,
      writer: device,
    });
    expect(created.status).toBe(200);
    const dir = created.body.volume.mountpoint;
    writeFileSync(join(dir, 'one'), 'one');
    expect((await plugin.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);

    proxy.stall();
    writeFileSync(join(dir, 'two'), 'written while the store was silent');
    const started = Date.now();
    const stalled = await plugin.control.request('POST', `/volumes/${name}/replicate`);
    const took = Date.now() - started;
    expect(stalled.status).toBe(502);
    expect(stalled.body).toMatchObject({
      code: ErrorCode.REPLICATION_FAILED,
      message: expect.stringMatching(
        new RegExp(`restic \\w+ made no progress for ${STALL_S} s .*127\\.0\\.0\\.1:${proxy.port}.*; it was stopped`),
      ),
    });
    expect(took).toBeGreaterThanOrEqual(STALL_S * 1000);
    expect(took).toBeLessThan(STALL_S * 1000 + 15_000); // the watchdog's checks, and 5 s for restic to end

    // The volume reports the failure, and its queue is free: Docker can mount it (not BUSY).
    expect(await plugin.control.volume(name)).toMatchObject({ replication: { state: 'error', code: ErrorCode.REPLICATION_FAILED } });
    const mounted = await dockerCall(plugin.pluginSocket, 'VolumeDriver.Mount', { Name: name, ID: 'm1' });
    expect(mounted.body).toEqual({ Mountpoint: dir, Err: '' });

    proxy.resume();
    expect((await dockerCall(plugin.pluginSocket, 'VolumeDriver.Unmount', { Name: name, ID: 'm1' })).body).toEqual({ Err: '' });
    const again = await plugin.control.request('POST', `/volumes/${name}/replicate`);
    expect(again.status).toBe(200); // the killed restic's lock is stale (its process is gone) and removed
    expect((await plugin.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
    const restored = await plugin.control.createVolume({
      name,
      instance: randomUUID(),
      role: 'app',
      fingerprint: key.fingerprint,
      writer: device,
    });
    expect(readFileSync(join(restored.body.volume.mountpoint, 'two'), 'utf8')).toBe('written while the store was silent');
  });

  it('stops a restore that makes no progress: the create fails and leaves nothing behind', async () => {
    const name = randomName();
    const request = { name, instance: randomUUID(), role: 'link', fingerprint: key.fingerprint, writer: device };
    const created = await plugin.control.createVolume(request);
    writeFileSync(join(created.body.volume.mountpoint, 'data'), 'x'.repeat(1000));
    expect((await plugin.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    expect((await plugin.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);

    proxy.stall();
    try {
      const failed = await plugin.control.createVolume(request);
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(JSON.stringify(failed.body)).toMatch(new RegExp(`made no progress for ${STALL_S} s`));
      expect((await plugin.control.request('GET', `/volumes/${name}`)).status).toBe(404);
    } finally {
      proxy.resume();
    }
    expect((await plugin.control.createVolume(request)).status).toBe(200);
  });
});
