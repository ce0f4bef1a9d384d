import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IsolatedEngine } from '../support/isolated-engine';
import { TEST_IMAGE } from '../support/engine';
import {
  RunningPlugin,
  TestKey,
  anyFileContains,
  generateKey,
  pluginConfig,
  pluginRoot,
  startPlugin,
  treeDigest,
} from '../support/storage-plugin';

jest.setTimeout(120_000);

/**
 * A real engine discovers the plugin through /run/docker/plugins/<driver>.sock. It is an engine of
 * the test's own (see IsolatedEngine): the machine's engine would keep the driver after the test
 * and wait ~30 s on its vanished socket at every later lookup of an unknown volume.
 */
describe('storage plugin: volumes of a real Docker engine', () => {
  const root = pluginRoot('docker');
  const driver = `mosaic-test-${randomBytes(4).toString('hex')}`;
  const name = `${driver}-app`;
  const instance = randomUUID();
  const device = randomUUID();
  let engine: IsolatedEngine;
  let plugin: RunningPlugin;
  let key: TestKey;

  const docker = (...args: string[]) => engine.docker(...args);

  beforeAll(async () => {
    engine = await IsolatedEngine.start();
    plugin = await startPlugin(pluginConfig(root.path, { STORAGE_DRIVER: driver, DOCKER_PLUGIN_DIR: engine.pluginDir }));
    key = await generateKey();
    expect((await plugin.control.registerKey(key)).status).toBe(200);
  });

  afterAll(async () => {
    await engine?.docker('volume', 'rm', '--force', name).catch(() => undefined);
    await plugin?.close();
    await engine?.stop();
    root.remove();
  });

  it('serves a container, replicates on the last unmount, and restores into a volume Docker creates with options', async () => {
    const created = await plugin.control.createVolume({ name, instance, role: 'app', fingerprint: key.fingerprint, writer: device });
    expect(created.status).toBe(200);
    expect((await docker('volume', 'create', '--driver', driver, name)).trim()).toBe(name);

    const marker = `docker-marker-${randomBytes(12).toString('hex')}`;
    await docker(
      'run',
      '--rm',
      '-v',
      `${name}:/data`,
      TEST_IMAGE,
      'sh',
      '-c',
      `echo ${marker} > /data/hello.txt && dd if=/dev/urandom of=/data/random.bin bs=1024 count=300 2>/dev/null && mkdir -p /data/sub && echo nested > /data/sub/n`,
    );
    const mountpoint = join(plugin.config.dataDir, 'volumes', name, 'data');
    const written = treeDigest(mountpoint);
    expect(Object.keys(written).sort()).toEqual(['hello.txt', 'random.bin', 'sub/n']);

    // The container is gone, so Docker unmounted: that last unmount replicates in the background.
    const replicated = await plugin.control.waitForVolume(name, (v) => v.lastReplicatedAt !== null && v.replication.state === 'idle');
    expect(replicated).toMatchObject({ mounts: 0, isWriter: true });
    expect(anyFileContains(join(plugin.config.replicaUrl, name), marker)).toBeNull();

    const inspected = JSON.parse(await docker('volume', 'inspect', name))[0];
    expect(inspected).toMatchObject({ Driver: driver, Name: name, Mountpoint: mountpoint });
    expect(inspected.Status).toMatchObject({
      instance,
      role: 'app',
      fingerprint: key.fingerprint,
      writer: device,
      isWriter: true,
      replication: 'idle',
    });

    // docker volume rm: replicated once more, then the local data goes (the replica stays).
    await docker('volume', 'rm', name);
    expect(existsSync(mountpoint)).toBe(false);
    expect((await plugin.control.request('GET', `/volumes/${name}`)).status).toBe(404);

    // Docker creates it again, with Mosaic's options: the plugin restores it from the replica.
    const opts = ['-o', `instance=${instance}`, '-o', 'role=app', '-o', `fingerprint=${key.fingerprint}`, '-o', `writer=${device}`];
    await docker('volume', 'create', '--driver', driver, ...opts, name);
    expect(treeDigest(mountpoint)).toEqual(written);
    const read = await docker('run', '--rm', '--network', 'none', '-v', `${name}:/data:ro`, TEST_IMAGE, 'cat', '/data/hello.txt');
    expect(read.trim()).toBe(marker);
  });

  it('answers Docker with an error for a volume it does not know', async () => {
    const unknown = `${driver}-nothing`;
    await expect(docker('volume', 'create', '--driver', driver, unknown)).rejects.toThrow(/not prepared by Mosaic/);
    await expect(docker('volume', 'inspect', unknown)).rejects.toThrow();
  });
});
