import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '@mosaic/protocol';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text';
import { RestServer } from '../support/rest-server';
import {
  RunningPlugin,
  TestKey,
  anyFileContains,
  dockerCall,
  generateKey,
  pluginConfig,
  pluginRoot,
  randomName,
  startPlugin,
  treeDigest,
} from '../support/storage-plugin';

jest.setTimeout(90_000);

describe('storage plugin: a rest: replica (rclone serve restic)', () => {
  const root = pluginRoot('rest');
  const store = join(root.path, 'rest-store');
  const device = randomUUID();
  const server = new RestServer(store);
  let plugin: RunningPlugin;
  let key: TestKey;

  beforeAll(async () => {
    mkdirSync(store, { recursive: true });
    await server.start();
    plugin = await startPlugin(
      pluginConfig(join(root.path, 'a'), {
        REPLICA_URL: `rest:http://127.0.0.1:${server.port}/`,
        REPLICATION_RETRY_BASE_S: '1',
        REPLICATION_RETRY_MAX_S: '2',
        // restic retries a refused connection for up to 15 minutes; the watchdog ends that sooner.
        RESTIC_STALL_TIMEOUT_S: '5',
      }),
    );
    key = await generateKey();
    expect((await plugin.control.registerKey(key)).status).toBe(200);
  });

  afterAll(async () => {
    await plugin?.close();
    await server.stop();
    root.remove();
  });

  it('replicates through the REST server, stores ciphertext only, restores byte for byte', async () => {
    const name = randomName();
    const request = { name, instance: randomUUID(), role: 'link', fingerprint: key.fingerprint, writer: device };
    const created = await plugin.control.createVolume(request);
    expect(created.body.volume).toMatchObject({ name, role: 'link', isWriter: true });
    const marker = `rest-marker-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(created.body.volume.mountpoint, 'notes.txt'), marker);
    writeFileSync(join(created.body.volume.mountpoint, 'blob.bin'), randomBytes(512 * 1024));
    const before = treeDigest(created.body.volume.mountpoint);

    expect((await plugin.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);
    expect(anyFileContains(join(store, name), marker)).toBeNull();
    expect(readFileSync(join(store, name, 'config')).length).toBeGreaterThan(0);

    expect((await plugin.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
    const restored = await plugin.control.createVolume(request);
    expect(restored.body.volume).toMatchObject({ name, isWriter: true });
    expect(treeDigest(restored.body.volume.mountpoint)).toEqual(before);
  });

  it("answers the writer check from the REST server's snapshot listing, and reads another device's claim from its file, all without restic", async () => {
    const listings = async (source: string) =>
      sampleValue(parsePrometheusText((await plugin.control.request('GET', '/metrics')).text), 'mosaic_storage_replica_listings_total', { source }) ?? 0;
    const name = randomName();
    const request = { name, instance: randomUUID(), role: 'app', fingerprint: key.fingerprint, writer: device };
    const created = await plugin.control.createVolume(request);
    writeFileSync(join(created.body.volume.mountpoint, 'one'), 'one');
    expect((await plugin.control.request('POST', `/volumes/${name}/replicate`)).status).toBe(200);

    const [known, listed, stored] = [await listings('known'), await listings('restic'), await listings('store')];
    for (let i = 0; i < 2; i++) {
      const answer = await plugin.control.request('GET', `/volumes/${name}/writer`);
      expect(answer.body).toEqual({ name, writer: device, isWriter: true, contested: false, generation: 1 });
    }
    // (The prune after the snapshot may look once more, from the listing too.)
    expect(await listings('known')).toBeGreaterThanOrEqual(known + 2);
    expect(await listings('restic')).toBe(listed);

    // Another device takes the replica over through the same server: its claim is an id this plugin does not know.
    const other = await startPlugin(pluginConfig(join(root.path, `other-${name}`), { REPLICA_URL: `rest:http://127.0.0.1:${server.port}/` }));
    try {
      expect((await other.control.registerKey(key)).status).toBe(200);
      const taken = await other.control.createVolume({ ...request, writer: randomUUID(), failover: true });
      expect(taken.body.volume).toMatchObject({ isWriter: true });
      const answer = await plugin.control.request('GET', `/volumes/${name}/writer`);
      expect(answer.body).toMatchObject({ name, writer: taken.body.volume.writer, isWriter: false, contested: false, generation: 2 });
      // The claim is a snapshot file this plugin did not know: read from the server, still without restic.
      expect(await listings('store')).toBe(stored + 1);
      expect(await listings('restic')).toBe(listed);
      const refused = await plugin.control.request('POST', `/volumes/${name}/replicate`);
      expect(refused.body).toMatchObject({ code: ErrorCode.NOT_WRITER });
    } finally {
      await other.close();
    }
  });

  it('keeps a volume usable while the replica is unreachable, and catches up with back-off once it is back', async () => {
    const name = randomName();
    const request = { name, instance: randomUUID(), role: 'app', fingerprint: key.fingerprint, writer: device };
    const created = await plugin.control.createVolume(request);
    const dir = created.body.volume.mountpoint;
    writeFileSync(join(dir, 'one'), 'one');
    const first = await plugin.control.request('POST', `/volumes/${name}/replicate`);
    expect(first.status).toBe(200);

    const port = server.port;
    await server.stop();
    const mounted = await dockerCall(plugin.pluginSocket, 'VolumeDriver.Mount', { Name: name, ID: 'm1' });
    expect(mounted.body).toEqual({ Mountpoint: dir, Err: '' });
    writeFileSync(join(dir, 'two'), 'written while the replica was away');

    const failed = await plugin.control.request('POST', `/volumes/${name}/replicate`);
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ code: ErrorCode.REPLICATION_FAILED, message: expect.stringContaining('127.0.0.1') });
    expect(await plugin.control.volume(name)).toMatchObject({
      lastReplicatedAt: first.body.lastReplicatedAt,
      replication: { state: 'error', code: ErrorCode.REPLICATION_FAILED },
    });

    // The last unmount replicates in the background; it fails, and is retried (1 s, then 2 s …).
    expect((await dockerCall(plugin.pluginSocket, 'VolumeDriver.Unmount', { Name: name, ID: 'm1' })).body).toEqual({ Err: '' });
    await server.start(port);
    const caughtUp = await plugin.control.waitForVolume(
      name,
      (v) => v.replication.state === 'idle' && v.lastReplicatedAt > first.body.lastReplicatedAt,
    );
    expect(caughtUp.isWriter).toBe(true);

    expect((await plugin.control.request('DELETE', `/volumes/${name}`)).status).toBe(200);
    const restored = await plugin.control.createVolume(request);
    expect(readFileSync(join(restored.body.volume.mountpoint, 'two'), 'utf8')).toBe('written while the replica was away');
  });
});
