import { Logger } from '@nestjs/common';
import { TempDirs, deviceConfig, stateStore } from '../../../../test/support/device-fixtures';

import { strictFake } from '../../../../test/support/strict-fake';
import { DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { ContainerSwap } from '../docker/container-swap';
import { ContainerDetails, ContainerSpec, DockerEngineAdapter, InspectedContainer, RestartPolicy } from '../docker/docker-engine.adapter';
import { OwnContainerService } from '../docker/own-container.service';
import { CONFIG_DIGEST_LABEL, StoragePluginInstaller, pluginImageBeside } from './storage-plugin-installer.service';
import { StorageService } from './storage.service';
import { StateStore } from '../common/state-store';

const IMAGE = 'mosaic/storage-plugin:0.1.0';

describe('StoragePluginInstaller', () => {
  const dirs = new TempDirs();
  afterEach(() => dirs.cleanup());
  let config: DeviceConfig;
  let existing: ContainerDetails | undefined;
  let images: Set<string>;
  let calls: string[];
  let ran: ContainerSpec[];
  let ready: jest.Mock<Promise<void>, [number?]>;
  let own: ContainerDetails | undefined;
  let store: StateStore;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    config = deviceConfig({
      stateDir: dirs.make(),
      storagePluginMode: 'container',
      storagePluginSocket: '/tmp/mosaic/storage.sock',
      volumesDir: '/var/lib/mosaic/volumes',
      storageDriver: 'mosaic',
      pluginContainer: {
        image: IMAGE,
        name: 'mosaic-storage-plugin',
        env: { REPLICA_URL: '/var/lib/mosaic/replicas', AWS_ACCESS_KEY_ID: 'AKIA' },
      },
    });
    existing = undefined;
    images = new Set([IMAGE]);
    calls = [];
    ran = [];
    ready = jest.fn().mockResolvedValue(undefined);
    own = undefined;
  });

  function installer(): StoragePluginInstaller {
    const engine = strictFake<DockerEngineAdapter>(
      {
        inspectContainer: async (ref: string) => (existing && (ref === existing.name || ref === existing.id) ? existing : undefined),
        hasImage: async (image: string) => images.has(image),
        pullImage: async (image: string) => {
          calls.push(`pull ${image}`);
          throw new Error('registry unreachable');
        },
        startContainer: async (name: string) => void calls.push(`start ${name}`),
        restartContainer: async (name: string, graceS: number) => void calls.push(`restart ${name} (${graceS} s to stop)`),
        removeContainer: async (name: string, graceS: number) => void calls.push(`remove ${name} (${graceS} s to stop)`),
        runContainer: async (spec: ContainerSpec) => {
          calls.push(`run ${spec.name}`);
          ran.push(spec);
          return 'new-id';
        },
        // What replacing the container takes (ContainerSwap).
        inspectContainerRaw: async () => ({ HostConfig: { RestartPolicy: { Name: 'always' } } }) as InspectedContainer,
        renameContainer: async (id: string, name: string) => void calls.push(`rename ${id} ${name}`),
        setRestartPolicy: async (id: string, policy: RestartPolicy) => void calls.push(`restart-policy ${id} ${policy.Name}`),
        stopContainer: async (id: string, graceS: number) => void calls.push(`stop ${id} (${graceS} s to stop)`),
        createContainer: async (spec: ContainerSpec) => {
          calls.push(`create ${spec.name}`);
          ran.push(spec);
          return 'new-id';
        },
      },
      'DockerEngineAdapter',
    );
    const ownContainer = strictFake<OwnContainerService>(
      {
        details: async () => own,
        hostPath: async (path: string, details?: ContainerDetails) => {
          const c = details ?? own;
          if (!c) return path;
          const m = c.mounts.find((x) => path === x.destination || path.startsWith(`${x.destination}/`));
          return m ? m.source + path.slice(m.destination.length) : undefined;
        },
      },
      'OwnContainerService',
    );
    return new StoragePluginInstaller(
      config,
      engine,
      ownContainer,
      strictFake<StorageService>({ ready }, 'StorageService'),
      (store = stateStore(config)),
      new ContainerSwap(engine),
    );
  }

  /** The digest a new installer makes (its key written to STATE_DIR before the next one reads it). */
  async function currentDigest(): Promise<string> {
    const digest = (await installer().containerSpec()).labels[CONFIG_DIGEST_LABEL];
    await store.flush();
    return digest;
  }

  it('does nothing in external mode', async () => {
    config = { ...config, storagePluginMode: 'external' };
    await installer().onModuleInit();
    expect(calls).toEqual([]);
    expect(ready).not.toHaveBeenCalled();
  });

  it('creates the plugin container on first boot, then waits for it to answer', async () => {
    await installer().onModuleInit();
    expect(calls).toEqual(['run mosaic-storage-plugin']);
    expect(ready).toHaveBeenCalledTimes(1);
    const [spec] = ran;
    expect(spec).toMatchObject({
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      lifetime: 'service',
      labels: { 'io.mosaic.component': 'storage-plugin', 'io.mosaic.storage-driver': 'mosaic' },
    });
    expect(spec.binds).toEqual([
      '/tmp/mosaic:/tmp/mosaic',
      '/run/docker/plugins:/run/docker/plugins',
      '/var/lib/mosaic/volumes:/var/lib/mosaic/volumes',
      '/var/lib/mosaic/replicas:/var/lib/mosaic/replicas',
    ]);
    expect(spec.env).toEqual(
      expect.arrayContaining([
        'STORAGE_DRIVER=mosaic',
        'DOCKER_PLUGIN_DIR=/run/docker/plugins',
        'STORAGE_PLUGIN_SOCKET=/tmp/mosaic/storage.sock',
        'STORAGE_DATA_DIR=/var/lib/mosaic/volumes',
        'REPLICA_URL=/var/lib/mosaic/replicas',
        'AWS_ACCESS_KEY_ID=AKIA',
      ]),
    );
    expect(spec.env.some((e) => /PASSPHRASE|DEVICE_TOKEN/.test(e))).toBe(false);
  });

  it('inside a container, shares the socket folder through the engine-host source of its mount', async () => {
    own = {
      id: 'c'.repeat(64),
      name: 'mosaic-device',
      image: 'mosaic/device:0.1.0',
      imageId: 'sha256:device',
      running: true,
      labels: {},
      mounts: [
        { source: '/var/lib/docker/volumes/mosaic-socket/_data', destination: '/tmp/mosaic' },
        { source: '/srv/replicas', destination: '/var/lib/mosaic/replicas' },
      ],
    };
    const spec = await installer().containerSpec();
    expect(spec.binds).toContain('/var/lib/docker/volumes/mosaic-socket/_data:/tmp/mosaic');
    expect(spec.binds).toContain('/srv/replicas:/srv/replicas');
    expect(spec.env).toContain('REPLICA_URL=/srv/replicas');
    expect(spec.binds).toContain('/var/lib/mosaic/volumes:/var/lib/mosaic/volumes'); // not mounted in the device: a host path
  });

  it('inside a container without a mount for the socket folder, says what to mount and starts nothing', async () => {
    own = { id: 'c'.repeat(64), name: 'mosaic-device', image: 'i', imageId: 'sha256:i', running: true, labels: {}, mounts: [] };
    await expect(installer().install()).rejects.toThrow(/plugin socket folder \/tmp\/mosaic is not a mount of the device's container/);
    expect(calls).toEqual([]);
  });

  it('hands on a certificate file at the same path, read-only, from where the device has it mounted', async () => {
    own = {
      id: 'c'.repeat(64),
      name: 'd',
      image: 'i',
      imageId: 'sha256:i',
      running: true,
      labels: {},
      mounts: [
        { source: '/var/lib/docker/volumes/sock/_data', destination: '/tmp/mosaic' },
        { source: '/etc/mosaic/ca', destination: '/certs' },
      ],
    };
    config = {
      ...config,
      pluginContainer: {
        ...config.pluginContainer,
        env: { REPLICA_URL: 'rest:https://store.example.net/', RESTIC_CACERT: '/certs/ca.pem' },
      },
    };
    const spec = await installer().containerSpec();
    expect(spec.binds).toContain('/etc/mosaic/ca/ca.pem:/certs/ca.pem:ro');
    expect(spec.env).toContain('RESTIC_CACERT=/certs/ca.pem');
  });

  it('hands on a credential file (AWS_SECRET_ACCESS_KEY_FILE) at the same path, read-only, and never its content', async () => {
    own = {
      id: 'c'.repeat(64),
      name: 'd',
      image: 'i',
      imageId: 'sha256:i',
      running: true,
      labels: {},
      mounts: [
        { source: '/var/lib/docker/volumes/sock/_data', destination: '/tmp/mosaic' },
        { source: '/etc/mosaic/s3-secret', destination: '/run/secrets/s3-secret' },
      ],
    };
    config = {
      ...config,
      pluginContainer: {
        ...config.pluginContainer,
        env: { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY_FILE: '/run/secrets/s3-secret' },
      },
    };
    const spec = await installer().containerSpec();
    expect(spec.binds).toContain('/etc/mosaic/s3-secret:/run/secrets/s3-secret:ro');
    expect(spec.env).toContain('AWS_SECRET_ACCESS_KEY_FILE=/run/secrets/s3-secret');
    expect(spec.env.some((e) => e.startsWith('AWS_SECRET_ACCESS_KEY='))).toBe(false);
  });

  it('refuses a certificate file the plugin container could not be given', async () => {
    own = {
      id: 'c'.repeat(64),
      name: 'd',
      image: 'i',
      imageId: 'sha256:i',
      running: true,
      labels: {},
      mounts: [{ source: '/var/lib/docker/volumes/sock/_data', destination: '/tmp/mosaic' }],
    };
    config = { ...config, pluginContainer: { ...config.pluginContainer, env: { RESTIC_CACERT: '/certs/ca.pem' } } };
    await expect(installer().containerSpec()).rejects.toThrow(/RESTIC_CACERT \/certs\/ca.pem is not a mount of the device's container/);
  });

  it('binds no folder for a remote replica', async () => {
    config = { ...config, pluginContainer: { ...config.pluginContainer, env: { REPLICA_URL: 's3:https://s3.example.net/bucket' } } };
    const spec = await installer().containerSpec();
    expect(spec.binds).toHaveLength(3);
    expect(spec.env).toContain('REPLICA_URL=s3:https://s3.example.net/bucket');
  });

  it('leaves a running container with the same settings alone', async () => {
    existing = {
      id: 'x',
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      imageId: 'sha256:plugin-old',
      running: true,
      labels: { 'io.mosaic.component': 'storage-plugin', [CONFIG_DIGEST_LABEL]: await currentDigest() },
      mounts: [],
    };
    expect(await installer().install()).toBe('running');
    expect(calls).toEqual([]);
  });

  it('restarts a container found running that does not answer (a stale socket mount), then waits for it', async () => {
    existing = {
      id: 'x',
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      imageId: 'sha256:plugin-old',
      running: true,
      labels: { 'io.mosaic.component': 'storage-plugin', [CONFIG_DIGEST_LABEL]: await currentDigest() },
      mounts: [],
    };
    ready.mockRejectedValueOnce(new Error('not running (no socket)'));
    await installer().onModuleInit();
    expect(calls).toEqual(['restart mosaic-storage-plugin (120 s to stop)']);
    expect(ready.mock.calls).toEqual([[10], []]); // a short look first, then the full STORAGE_PLUGIN_WAIT_S
  });

  it('does not restart a running container that answers', async () => {
    existing = {
      id: 'x',
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      imageId: 'sha256:plugin-old',
      running: true,
      labels: { 'io.mosaic.component': 'storage-plugin', [CONFIG_DIGEST_LABEL]: await currentDigest() },
      mounts: [],
    };
    await installer().onModuleInit();
    expect(calls).toEqual([]);
  });

  it('starts a stopped container with the same settings', async () => {
    existing = {
      id: 'x',
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      imageId: 'sha256:plugin-old',
      running: false,
      labels: { 'io.mosaic.component': 'storage-plugin', [CONFIG_DIGEST_LABEL]: await currentDigest() },
      mounts: [],
    };
    expect(await installer().install()).toBe('started');
    expect(calls).toEqual(['start mosaic-storage-plugin']);
  });

  it('replaces the container when a setting changed (say REPLICA_URL or the image)', async () => {
    const before = await currentDigest();
    config = { ...config, pluginContainer: { ...config.pluginContainer, env: { REPLICA_URL: '/mnt/backup' } } };
    expect(await currentDigest()).not.toBe(before);
    existing = {
      id: 'x',
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      imageId: 'sha256:plugin-old',
      running: true,
      labels: { 'io.mosaic.component': 'storage-plugin', [CONFIG_DIGEST_LABEL]: before },
      mounts: [],
    };
    const plugin = installer();
    expect(await plugin.install()).toBe('replaced');
    // The old one waits aside, stopped, until the new one answers; then it goes, its image noted for the cleanup after an upgrade.
    expect(calls).toEqual([
      'rename x mosaic-storage-plugin-previous-x',
      'restart-policy x no',
      'create mosaic-storage-plugin',
      'stop x (120 s to stop)',
      'start new-id',
      'remove x (0 s to stop)',
    ]);
    expect(ready).toHaveBeenCalledWith(config.storagePluginWaitS);
    expect(plugin.replacedImageId).toBe('sha256:plugin-old');
    existing = { ...existing, id: 'new-id', labels: ran[0].labels };
    await store.flush();
    expect(await installer().installedContainer()).toBe('mosaic-storage-plugin');
  });

  it('puts the previous plugin container back, with its restart policy, when the new one does not answer', async () => {
    const before = await currentDigest();
    config = { ...config, pluginContainer: { ...config.pluginContainer, image: 'mosaic/storage-plugin:0.2.0' } };
    images.add('mosaic/storage-plugin:0.2.0');
    existing = {
      id: 'x',
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      imageId: 'sha256:plugin-old',
      running: true,
      labels: { 'io.mosaic.component': 'storage-plugin', [CONFIG_DIGEST_LABEL]: before },
      mounts: [],
    };
    ready.mockRejectedValueOnce(new Error('no socket'));
    const plugin = installer();
    await expect(plugin.install()).rejects.toThrow(
      /the new plugin container \(mosaic\/storage-plugin:0.2.0\) was not taken: it did not answer within 60 s \(no socket\); the previous one runs again/,
    );
    expect(calls.slice(-4)).toEqual([
      'remove new-id (10 s to stop)',
      'rename x mosaic-storage-plugin',
      'restart-policy x always',
      'start x',
    ]);
    expect(plugin.replacedImageId).toBeUndefined();
    await store.flush();
    expect(await installer().installedContainer()).toBe('mosaic-storage-plugin'); // the recorded one is the old one again
  });

  it('takes its image, unless STORAGE_PLUGIN_IMAGE names one, from beside the device image, at the device version', async () => {
    config = { ...config, pluginContainer: { ...config.pluginContainer, image: undefined } };
    expect((await installer().containerSpec()).image).toBe(`mosaic/storage-plugin:${DEVICE_VERSION}`);
    own = {
      id: 'c'.repeat(64),
      name: 'd',
      image: '127.0.0.1:5000/mosaic/device:0.0.1',
      imageId: 'sha256:d',
      running: true,
      labels: {},
      mounts: [{ source: '/var/lib/docker/volumes/sock/_data', destination: '/tmp/mosaic' }],
    };
    expect((await installer().containerSpec()).image).toBe(`127.0.0.1:5000/mosaic/storage-plugin:${DEVICE_VERSION}`);
    expect(pluginImageBeside({ ...own, image: `sha256:${'a'.repeat(64)}` })).toBe(`mosaic/storage-plugin:${DEVICE_VERSION}`);
    expect(pluginImageBeside({ ...own, image: 'ghcr.io/me/mosaic-agent:1' })).toBe(`mosaic/storage-plugin:${DEVICE_VERSION}`);
  });

  it('never replaces the plugin of another device (another driver) that has the same container name', async () => {
    existing = {
      id: 'x',
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      imageId: 'sha256:plugin-old',
      running: true,
      labels: { 'io.mosaic.component': 'storage-plugin', 'io.mosaic.storage-driver': 'mosaic-b', [CONFIG_DIGEST_LABEL]: 'old' },
      mounts: [],
    };
    await expect(installer().install()).rejects.toThrow(/storage plugin of driver mosaic-b .*STORAGE_PLUGIN_CONTAINER/);
    expect(calls).toEqual([]);
  });

  describe('installedContainer: what an upgrade recreates', () => {
    const plugin = (id: string, labels: Record<string, string>): ContainerDetails => ({
      id,
      name: 'mosaic-storage-plugin',
      image: IMAGE,
      imageId: 'sha256:plugin-old',
      running: true,
      labels,
      mounts: [],
    });

    it('is the container it created, found by the id it recorded', async () => {
      await installer().install();
      await store.flush(); // the record is on disk before the next run reads it
      existing = plugin('new-id', ran[0].labels);
      expect(await installer().installedContainer()).toBe('mosaic-storage-plugin');
    });

    it('is the container it found and kept', async () => {
      existing = plugin('kept-id', { 'io.mosaic.component': 'storage-plugin', [CONFIG_DIGEST_LABEL]: await currentDigest() });
      expect(await installer().install()).toBe('running');
      await store.flush();
      expect(await installer().installedContainer()).toBe('mosaic-storage-plugin');
    });

    it('is none once that container is gone, whatever now carries the plugin’s name and labels', async () => {
      await installer().install();
      existing = plugin('someone-elses', { 'io.mosaic.component': 'storage-plugin', 'io.mosaic.storage-driver': 'mosaic' });
      await expect(installer().installedContainer()).resolves.toBeUndefined();
    });

    it('is none before any install, and in external mode', async () => {
      await expect(installer().installedContainer()).resolves.toBeUndefined();
      await installer().install();
      existing = plugin('new-id', ran[0].labels);
      config = { ...config, storagePluginMode: 'external' };
      await expect(installer().installedContainer()).resolves.toBeUndefined();
    });
  });

  it('keys its settings digest with a secret of its own, so the label says nothing of the credentials', async () => {
    const first = await currentDigest();
    expect(await currentDigest()).toBe(first); // the key is kept in STATE_DIR
    config = { ...config, stateDir: dirs.make() };
    expect(await currentDigest()).not.toBe(first); // another device, another key
  });

  it('never removes a container of that name that is not a storage plugin', async () => {
    existing = { id: 'x', name: 'mosaic-storage-plugin', image: 'postgres', imageId: 'sha256:pg', running: true, labels: {}, mounts: [] };
    await expect(installer().install()).rejects.toThrow(/not a Mosaic storage plugin/);
    expect(calls).toEqual([]);
  });

  it('pulls a missing image and, when that fails, says how to get it; the device still boots', async () => {
    images.clear();
    await expect(installer().install()).rejects.toThrow(
      /mosaic\/storage-plugin:0.1.0 is not on this engine and could not be pulled \(registry unreachable\)/,
    );
    calls = [];
    await installer().onModuleInit(); // logged, not thrown: Hive still hears from the device
    expect(calls).toEqual(['pull mosaic/storage-plugin:0.1.0']);
    expect(ready).not.toHaveBeenCalled();
  });
});
