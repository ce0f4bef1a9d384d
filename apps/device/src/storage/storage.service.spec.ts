import { Logger } from '@nestjs/common';
import { ErrorCode, ProtocolException, ReplicatedVolumeDto, VolumeReportDto, validatePayload } from '@mosaic/protocol';
import { deviceConfig } from '../../../../test/support/device-fixtures';
import { metricValue } from '../../../../test/support/metric-value';
import { strictFake } from '../../../../test/support/strict-fake';
import { DeviceConfig } from '../config/device-config';
import { Secret } from '../config/secret';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { InstanceKey, InstanceKeys, KeystoreService } from '../keystore/keystore.service';
import { CreateVolumeRequest, PluginHealth, PluginStage, PluginVolume, PluginWriter, StorageControlClient, StorageControlError } from './storage-control.client';
import { DeviceMetrics } from '../metrics/device-metrics';
import { StorageService, VOLUME_INSTANCE_LABEL, VOLUME_ROLE_LABEL } from './storage.service';

const DEVICE_ID = '0b7e4c1a-5d2f-4e8a-9c3b-6f1d2e3a4b5c';
const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const OTHER = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
const REPLICATED_AT = '2026-11-25T10:00:00.000Z';
const HEALTH: PluginHealth = { ok: true, version: '0.1.0', driver: 'mosaic', volumes: 0, keys: 0 };

/** Distinct, valid fingerprints per instance and role (40 lower-case hex digits). */
function fingerprint(instance: string, role: 'app' | 'link'): string {
  return `${role === 'app' ? 'a' : 'b'}${instance.replace(/-/g, '')}`.padEnd(40, '0').slice(0, 40);
}

function instanceKeys(instance: string): InstanceKeys {
  const key = (role: 'app' | 'link'): InstanceKey => ({
    role,
    fingerprint: fingerprint(instance, role),
    publicKey: `-----BEGIN PGP PUBLIC KEY BLOCK-----\n${role} ${instance}\n-----END PGP PUBLIC KEY BLOCK-----`,
    encryptedPrivateKey: `encrypted ${role} ${instance}`,
    privateKey: new Secret(`private ${role} ${instance}`),
  });
  return { app: key('app'), link: key('link') };
}

function pluginVolume(instance: string, role: 'app' | 'link', overrides: Partial<PluginVolume> = {}): PluginVolume {
  const name = `mosaic-${instance}-${role}`;
  return {
    name,
    instance,
    role,
    fingerprint: fingerprint(instance, role),
    mountpoint: `/var/lib/mosaic/volumes/${name}`,
    mounts: 0,
    sizeBytes: role === 'app' ? 4096 : 512,
    lastReplicatedAt: REPLICATED_AT,
    replication: { state: 'idle' },
    writer: DEVICE_ID,
    isWriter: true,
    ...overrides,
  };
}

describe('StorageService', () => {
  let config: DeviceConfig;
  let health: jest.Mock<Promise<PluginHealth>, [number?]>;
  let registerKey: jest.Mock<Promise<void>, [string, string]>;
  let createVolume: jest.Mock<Promise<PluginVolume>, [CreateVolumeRequest, (percent: number) => void]>;
  let pluginVolumes: jest.Mock<Promise<PluginVolume[]>, []>;
  let pluginKeys: jest.Mock<Promise<string[]>, []>;
  let replicate: jest.Mock<Promise<{ name: string; lastReplicatedAt: string }>, [string]>;
  let writer: jest.Mock<Promise<PluginWriter>, [string]>;
  let ensureVolume: jest.Mock<Promise<string>, [string, string, Record<string, string>]>;
  let keysFor: jest.Mock<Promise<InstanceKeys>, [string, { failover: boolean }]>;
  let stageVolume: jest.Mock<Promise<PluginStage>, [string, string, (percent: number) => void]>;
  let discardStage: jest.Mock<Promise<boolean>, [string]>;
  let cached: jest.Mock<InstanceKeys | undefined, [string]>;
  let hive: { deviceId?: string; onAuthenticated: jest.Mock<void, [() => void]> };
  let metrics: DeviceMetrics;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    config = deviceConfig({ storagePluginWaitS: 1, storageDriver: 'mosaic' });
    health = jest.fn().mockResolvedValue(HEALTH);
    registerKey = jest.fn().mockResolvedValue(undefined);
    createVolume = jest.fn(async (body: CreateVolumeRequest, onProgress: (percent: number) => void) => {
      onProgress(40);
      onProgress(100);
      return pluginVolume(body.instance, body.role, { lastReplicatedAt: null });
    });
    pluginVolumes = jest.fn().mockResolvedValue([]);
    pluginKeys = jest.fn().mockResolvedValue([]);
    replicate = jest.fn(async (name: string) => ({ name, lastReplicatedAt: `2026-11-25T11:00:0${name.endsWith('-app') ? 1 : 2}.000Z` }));
    writer = jest.fn(async (name: string) => ({ name, writer: DEVICE_ID, isWriter: true, contested: false, generation: 1 }));
    ensureVolume = jest.fn(async (_name: string, driver: string, _labels: Record<string, string>) => driver);
    keysFor = jest.fn(async (instance: string, _options: { failover: boolean }) => instanceKeys(instance));
    cached = jest.fn((instance: string) => instanceKeys(instance));
    stageVolume = jest.fn(async (name: string, _fingerprint: string, onProgress: (percent: number) => void) => {
      onProgress(50);
      onProgress(100);
      return { name, snapshot: 'c'.repeat(64), snapshotAt: REPLICATED_AT, bytes: name.endsWith('-app') ? 4096 : 0, incremental: false };
    });
    discardStage = jest.fn(async (name: string) => name.endsWith('-app'));
    hive = { deviceId: DEVICE_ID, onAuthenticated: jest.fn() };
    metrics = new DeviceMetrics();
  });
  afterEach(() => jest.useRealTimers());

  function service(): StorageService {
    return new StorageService(
      config,
      strictFake<StorageControlClient>(
        { health, registerKey, createVolume, volumes: pluginVolumes, keys: pluginKeys, replicate, writer, stageVolume, discardStage },
        'StorageControlClient',
      ),
      strictFake<DockerEngineAdapter>({ ensureVolume }, 'DockerEngineAdapter'),
      strictFake<KeystoreService>({ keysFor, cached }, 'KeystoreService'),
      strictFake<HiveConnectionService>(hive, 'HiveConnectionService'),
      metrics,
    );
  }

  const appName = `mosaic-${INSTANCE}-app`;
  const linkName = `mosaic-${INSTANCE}-link`;

  describe('stageVolumes() and discardStages() (§2.7)', () => {
    it('registers both keys and stages both volumes with their keys, reporting progress over both', async () => {
      const keys = instanceKeys(INSTANCE);
      const seen: number[] = [];
      const staged = await service().stageVolumes(INSTANCE, keys, (p) => seen.push(p));
      expect(registerKey.mock.calls.map(([f]) => f).sort()).toEqual([keys.app.fingerprint, keys.link.fingerprint].sort());
      expect(stageVolume.mock.calls.map(([name, f]) => [name, f]).sort()).toEqual(
        [
          [appName, keys.app.fingerprint],
          [linkName, keys.link.fingerprint],
        ].sort(),
      );
      expect(staged).toEqual([
        { name: appName, snapshot: 'c'.repeat(64), snapshotAt: REPLICATED_AT, bytes: 4096 },
        { name: linkName, snapshot: 'c'.repeat(64), snapshotAt: REPLICATED_AT, bytes: 0 },
      ]);
      expect(seen[seen.length - 1]).toBe(100);
      // Nothing is created, in the plugin or in Docker: the start does that.
      expect(createVolume).not.toHaveBeenCalled();
      expect(ensureVolume).not.toHaveBeenCalled();
    });

    it('turns a plugin refusal into RESTORE_FAILED naming the volume, and keeps the plugin code it knows', async () => {
      stageVolume.mockRejectedValueOnce(new StorageControlError(500, { code: 'INTERNAL', message: 'disk on fire' }));
      await expect(service().stageVolumes(INSTANCE, instanceKeys(INSTANCE))).rejects.toMatchObject({
        code: ErrorCode.RESTORE_FAILED,
        message: expect.stringContaining('could not be staged'),
      });
      stageVolume.mockRejectedValueOnce(new StorageControlError(0, { code: ErrorCode.STORAGE_UNAVAILABLE, message: 'no socket' }));
      await expect(service().stageVolumes(INSTANCE, instanceKeys(INSTANCE))).rejects.toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE });
    });

    it('drops the stages of both volumes and says which had one', async () => {
      await expect(service().discardStages(INSTANCE)).resolves.toEqual([appName]);
      expect(discardStage.mock.calls.map(([n]) => n).sort()).toEqual([appName, linkName].sort());
    });
  });

  describe('prepareVolumes()', () => {
    it('registers both keys, creates both volumes in the plugin, then as Docker volumes of the driver', async () => {
      const keys = instanceKeys(INSTANCE);
      const names = await service().prepareVolumes(INSTANCE, keys, { failover: true });

      expect(names).toEqual([appName, linkName]);
      expect(registerKey.mock.calls).toEqual([
        [keys.app.fingerprint, `private app ${INSTANCE}`],
        [keys.link.fingerprint, `private link ${INSTANCE}`],
      ]);
      expect(createVolume.mock.calls.map(([body]) => body)).toEqual([
        { name: appName, instance: INSTANCE, role: 'app', fingerprint: keys.app.fingerprint, writer: DEVICE_ID, failover: true },
        { name: linkName, instance: INSTANCE, role: 'link', fingerprint: keys.link.fingerprint, writer: DEVICE_ID, failover: true },
      ]);
      expect(ensureVolume.mock.calls).toEqual([
        [appName, 'mosaic', { [VOLUME_INSTANCE_LABEL]: INSTANCE, [VOLUME_ROLE_LABEL]: 'app' }],
        [linkName, 'mosaic', { [VOLUME_INSTANCE_LABEL]: INSTANCE, [VOLUME_ROLE_LABEL]: 'link' }],
      ]);
      expect(VOLUME_INSTANCE_LABEL).toBe('io.mosaic.instance');
      expect(VOLUME_ROLE_LABEL).toBe('io.mosaic.role');
    });

    it('registers each key before its volume is created, and creates the plugin volume before the Docker one', async () => {
      await service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: false });
      const [registerApp, registerLink] = registerKey.mock.invocationCallOrder;
      const [createApp, createLink] = createVolume.mock.invocationCallOrder;
      const [dockerApp, dockerLink] = ensureVolume.mock.invocationCallOrder;
      expect(registerApp).toBeLessThan(createApp);
      expect(createApp).toBeLessThan(dockerApp);
      expect(registerLink).toBeLessThan(createLink);
      expect(createLink).toBeLessThan(dockerLink);
      expect(createVolume.mock.calls.map(([body]) => body.failover)).toEqual([false, false]);
    });

    it('passes the restore progress of both volumes through as one 0–100 progress', async () => {
      const progress: number[] = [];
      await service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: true, progress: (p) => progress.push(p) });
      expect(progress).toEqual([20, 50, 70, 100]);
    });

    it('shows each volume’s restore progress as a 0–1 gauge while it runs, then counts the outcome', async () => {
      const seen: Array<number | undefined> = [];
      createVolume.mockImplementation(async (req, onProgress) => {
        onProgress(40);
        seen.push(await metricValue(metrics.registry, 'mosaic_device_restore_progress_ratio', { volume: req.name }));
        if (req.role === 'link') throw new StorageControlError(500, { code: 'RESTORE_FAILED', message: 'restic: no key found' });
        return pluginVolume(INSTANCE, req.role);
      });
      await expect(service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: true })).rejects.toMatchObject({ code: ErrorCode.RESTORE_FAILED });
      expect(seen).toEqual([0.4, 0.4]);
      expect(await metricValue(metrics.registry, 'mosaic_device_restore_progress_ratio', { volume: appName })).toBeUndefined();
      expect(await metricValue(metrics.registry, 'mosaic_device_restores_total', { outcome: 'ok' })).toBe(1);
      expect(await metricValue(metrics.registry, 'mosaic_device_restores_total', { outcome: 'failed' })).toBe(1);
    });

    it('fails with STORAGE_UNAVAILABLE naming both drivers when the Docker volume exists with another driver', async () => {
      ensureVolume.mockImplementation(async (name) => (name === appName ? 'local' : 'mosaic'));
      const failure = service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: false });
      await expect(failure).rejects.toBeInstanceOf(ProtocolException);
      await expect(failure).rejects.toMatchObject({
        code: ErrorCode.STORAGE_UNAVAILABLE,
        message: expect.stringMatching(new RegExp(`${appName}.*driver local.*mosaic`)),
      });
      expect(createVolume).toHaveBeenCalledTimes(2); // both volumes are prepared side by side
    });

    it('fails with STORAGE_UNAVAILABLE when Docker cannot create the volume', async () => {
      ensureVolume.mockRejectedValue(new Error('plugin "mosaic" not found'));
      await expect(service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: false })).rejects.toMatchObject({
        code: ErrorCode.STORAGE_UNAVAILABLE,
        message: expect.stringContaining('plugin "mosaic" not found'),
      });
    });

    it('fails with RESTORE_FAILED when the plugin cannot restore a replica', async () => {
      createVolume.mockRejectedValue(new StorageControlError(500, { code: 'RESTORE_FAILED', message: 'restic: wrong password or no key found' }));
      const failure = service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: true });
      await expect(failure).rejects.toBeInstanceOf(ProtocolException);
      await expect(failure).rejects.toMatchObject({ code: ErrorCode.RESTORE_FAILED, message: expect.stringContaining('restic: wrong password') });
      expect(ensureVolume).not.toHaveBeenCalled();
    });

    it('fails with RESTORE_FAILED when the plugin fails with a code of its own', async () => {
      createVolume.mockRejectedValue(new StorageControlError(500, { code: 'INTERNAL', message: 'disk full' }));
      await expect(service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: true })).rejects.toMatchObject({
        code: ErrorCode.RESTORE_FAILED,
        message: expect.stringContaining('disk full'),
      });
    });

    it('fails with STORAGE_UNAVAILABLE when the plugin refuses a key', async () => {
      registerKey.mockRejectedValue(new StorageControlError(0, { code: 'STORAGE_UNAVAILABLE', message: 'storage plugin: not running (no socket)' }));
      await expect(service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: false })).rejects.toMatchObject({
        code: ErrorCode.STORAGE_UNAVAILABLE,
      });
      expect(createVolume).not.toHaveBeenCalled();
    });

    it('fails with STORAGE_UNAVAILABLE before touching the plugin when the device has no id yet', async () => {
      hive.deviceId = undefined;
      const failure = service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: false });
      await expect(failure).rejects.toBeInstanceOf(ProtocolException);
      await expect(failure).rejects.toMatchObject({ code: ErrorCode.STORAGE_UNAVAILABLE, message: expect.stringContaining('id') });
      expect(registerKey).not.toHaveBeenCalled();
      expect(createVolume).not.toHaveBeenCalled();
    });

    it('fails with STORAGE_UNAVAILABLE naming the socket when the plugin does not answer within STORAGE_PLUGIN_WAIT_S', async () => {
      jest.useFakeTimers();
      health.mockRejectedValue(new Error('not running (no socket)'));
      let settled = false;
      const failure = service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: false });
      void failure.catch(() => undefined).finally(() => (settled = true));

      await jest.advanceTimersByTimeAsync(900);
      expect(settled).toBe(false); // still waiting inside the 1 s
      await jest.advanceTimersByTimeAsync(200);

      expect(settled).toBe(true);
      await expect(failure).rejects.toBeInstanceOf(ProtocolException);
      await expect(failure).rejects.toMatchObject({
        code: ErrorCode.STORAGE_UNAVAILABLE,
        message: expect.stringContaining(config.storagePluginSocket),
      });
      expect(health.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(createVolume).not.toHaveBeenCalled();
    });

    it('goes on once the plugin answers within STORAGE_PLUGIN_WAIT_S', async () => {
      jest.useFakeTimers();
      health.mockRejectedValueOnce(new Error('not running (no socket)')).mockResolvedValue(HEALTH);
      const done = service().prepareVolumes(INSTANCE, instanceKeys(INSTANCE), { failover: false });
      await jest.advanceTimersByTimeAsync(600);
      await expect(done).resolves.toEqual([appName, linkName]);
      expect(health).toHaveBeenCalledTimes(2);
    });
  });

  describe('assertWriter()', () => {
    const otherWrites = (name: string): PluginWriter => ({ name, writer: OTHER, isWriter: false, contested: false, generation: 3 });

    it('lets the start go on when this device writes both replicas', async () => {
      await expect(service().assertWriter(INSTANCE)).resolves.toBeUndefined();
      expect(writer.mock.calls).toEqual([[appName], [linkName]]);
    });

    it('refuses with NOT_WRITER, naming the writer, when the plugin says another device writes a replica', async () => {
      writer.mockImplementation(async (name) => (name === linkName ? otherWrites(name) : { name, writer: DEVICE_ID, isWriter: true, contested: false, generation: 3 }));
      const refusal = service().assertWriter(INSTANCE);
      await expect(refusal).rejects.toBeInstanceOf(ProtocolException);
      await expect(refusal).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER, details: { volume: linkName, writer: OTHER } });
    });

    it.each<[string, (name: string) => Promise<PluginWriter>]>([
      ['the plugin cannot list the replica', async () => Promise.reject(new StorageControlError(503, { code: 'STORAGE_UNAVAILABLE', message: 'store unreachable' }))],
      ['the keys are not registered', async () => Promise.reject(new StorageControlError(409, { code: 'KEYS_MISSING', message: 'no key' }))],
      ['an older plugin without the route', async () => Promise.reject(new StorageControlError(404, { code: 'NOT_FOUND', message: 'no route' }))],
      ['devices contend for the replica', async (name) => ({ name, writer: null, isWriter: false, contested: true, generation: 4 })],
      ['the replica is empty', async (name) => ({ name, writer: null, isWriter: true, contested: false, generation: 0 })],
    ])('lets the start go on when the answer is not definite: %s', async (_label, answer) => {
      writer.mockImplementation(answer);
      await expect(service().assertWriter(INSTANCE)).resolves.toBeUndefined();
    });
  });

  describe('afterStop()', () => {
    beforeEach(() => {
      pluginVolumes.mockResolvedValue([pluginVolume(INSTANCE, 'app'), pluginVolume(INSTANCE, 'link', { lastReplicatedAt: null })]);
    });

    it('replicates both volumes and returns their new replication times', async () => {
      const result = await service().afterStop(INSTANCE, true);
      expect(result).toEqual([
        { name: appName, lastReplicatedAt: '2026-11-25T11:00:01.000Z' },
        { name: linkName, lastReplicatedAt: '2026-11-25T11:00:02.000Z' },
      ]);
      expect(replicate.mock.calls).toEqual([[appName], [linkName]]);
      for (const volume of result) expect(validatePayload(ReplicatedVolumeDto, volume).ok).toBe(true);
    });

    it('registers the keys from the keystore (never generating) before replicating', async () => {
      await service().afterStop(INSTANCE, true);
      expect(keysFor.mock.calls).toEqual([[INSTANCE, { failover: true }]]);
      expect(registerKey.mock.calls).toEqual([
        [fingerprint(INSTANCE, 'app'), `private app ${INSTANCE}`],
        [fingerprint(INSTANCE, 'link'), `private link ${INSTANCE}`],
      ]);
      const lastRegistration = Math.max(...registerKey.mock.invocationCallOrder);
      expect(lastRegistration).toBeLessThan(Math.min(...replicate.mock.invocationCallOrder));
    });

    it('fails with NOT_WRITER when the replica now belongs to another device', async () => {
      replicate.mockRejectedValue(new StorageControlError(409, { code: 'NOT_WRITER', message: `device ${OTHER} writes this replica` }));
      const failure = service().afterStop(INSTANCE, true);
      await expect(failure).rejects.toBeInstanceOf(ProtocolException);
      await expect(failure).rejects.toMatchObject({ code: ErrorCode.NOT_WRITER, message: expect.stringContaining(appName) });
      expect(replicate).toHaveBeenCalledTimes(2); // both replicas are written side by side
    });

    it.each([
      ['a replication error of the plugin', new StorageControlError(500, { code: 'REPLICATION_FAILED', message: 'restic: repository is locked' })],
      ['an error code of the plugin’s own', new StorageControlError(500, { code: 'INTERNAL', message: 'restic: repository is locked' })],
      ['a plugin that stopped answering', new StorageControlError(0, { code: 'STORAGE_UNAVAILABLE', message: 'restic: repository is locked' })],
      ['a plain error', new Error('restic: repository is locked')],
    ])('fails with REPLICATION_FAILED on %s', async (_what, err) => {
      replicate.mockImplementation(async (name) => {
        if (name === linkName) throw err;
        return { name, lastReplicatedAt: REPLICATED_AT };
      });
      const failure = service().afterStop(INSTANCE, true);
      await expect(failure).rejects.toBeInstanceOf(ProtocolException);
      await expect(failure).rejects.toMatchObject({
        code: ErrorCode.REPLICATION_FAILED,
        message: expect.stringMatching(new RegExp(`${linkName}.*restic: repository is locked`)),
      });
    });

    it('fails with REPLICATION_FAILED when the plugin cannot list its volumes', async () => {
      pluginVolumes.mockRejectedValue(new StorageControlError(0, { code: 'STORAGE_UNAVAILABLE', message: 'storage plugin: not running (no socket)' }));
      await expect(service().afterStop(INSTANCE, true)).rejects.toMatchObject({
        code: ErrorCode.REPLICATION_FAILED,
        message: expect.stringContaining('not running (no socket)'),
      });
      expect(replicate).not.toHaveBeenCalled();
    });

    it('fails with REPLICATION_FAILED when the keys cannot be registered', async () => {
      registerKey.mockRejectedValue(new StorageControlError(0, { code: 'STORAGE_UNAVAILABLE', message: 'storage plugin: not running (no socket)' }));
      await expect(service().afterStop(INSTANCE, true)).rejects.toMatchObject({ code: ErrorCode.REPLICATION_FAILED });
      expect(replicate).not.toHaveBeenCalled();
    });

    it('fails with REPLICATION_FAILED when the keys cannot be had', async () => {
      keysFor.mockRejectedValue(new ProtocolException(ErrorCode.KEYS_MISSING, `Hive holds no keys for ${INSTANCE}.`));
      await expect(service().afterStop(INSTANCE, true)).rejects.toMatchObject({
        code: ErrorCode.REPLICATION_FAILED,
        message: expect.stringContaining(`Hive holds no keys for ${INSTANCE}.`),
      });
      expect(replicate).not.toHaveBeenCalled();
    });

    it('does not replicate when replicate is false, and returns the plugin’s last times', async () => {
      const result = await service().afterStop(INSTANCE, false);
      expect(result).toEqual([
        { name: appName, lastReplicatedAt: REPLICATED_AT },
        { name: linkName, lastReplicatedAt: null },
      ]);
      expect(replicate).not.toHaveBeenCalled();
      expect(keysFor).not.toHaveBeenCalled();
    });

    it.each([true, false])('fails with REPLICATION_FAILED when the plugin does not hold the volumes (replicate %s)', async (replicateNow) => {
      pluginVolumes.mockResolvedValue([pluginVolume(INSTANCE, 'app'), pluginVolume(OTHER, 'link')]);
      const failure = service().afterStop(INSTANCE, replicateNow);
      await expect(failure).rejects.toBeInstanceOf(ProtocolException);
      await expect(failure).rejects.toMatchObject({ code: ErrorCode.REPLICATION_FAILED, message: expect.stringContaining(INSTANCE) });
      expect(replicate).not.toHaveBeenCalled();
    });
  });

  describe('volumes()', () => {
    it('maps the plugin’s volumes to valid §4 entries with each volume’s public key', async () => {
      pluginVolumes.mockResolvedValue([
        pluginVolume(INSTANCE, 'app', { replication: { state: 'replicating' }, sizeBytes: 123456 }),
        pluginVolume(INSTANCE, 'link', { lastReplicatedAt: null }),
      ]);
      const report = await service().volumes();
      const keys = instanceKeys(INSTANCE);
      expect(report).toEqual([
        {
          name: appName,
          instance: INSTANCE,
          role: 'app',
          fingerprint: keys.app.fingerprint,
          publicKey: keys.app.publicKey,
          lastReplicatedAt: REPLICATED_AT,
          replication: { state: 'replicating' },
          sizeBytes: 123456,
        },
        {
          name: linkName,
          instance: INSTANCE,
          role: 'link',
          fingerprint: keys.link.fingerprint,
          publicKey: keys.link.publicKey,
          lastReplicatedAt: null,
          replication: { state: 'idle' },
          sizeBytes: 512,
        },
      ]);
      for (const volume of report) expect(validatePayload(VolumeReportDto, volume)).toEqual({ ok: true, value: expect.anything() });
    });

    it('skips volumes whose keys are not known here', async () => {
      cached.mockImplementation((instance) => (instance === INSTANCE ? instanceKeys(INSTANCE) : undefined));
      pluginVolumes.mockResolvedValue([pluginVolume(OTHER, 'app'), pluginVolume(INSTANCE, 'app'), pluginVolume(OTHER, 'link')]);
      const report = await service().volumes();
      expect(report.map((v) => v.name)).toEqual([appName]);
    });

    it('carries the replication error, prefixed with its code', async () => {
      pluginVolumes.mockResolvedValue([
        pluginVolume(INSTANCE, 'app', { replication: { state: 'error', code: 'REPLICATION_FAILED', error: 'restic: repository is locked' } }),
        pluginVolume(INSTANCE, 'link', { replication: { state: 'error', error: 'no space left on device' } }),
      ]);
      const report = await service().volumes();
      expect(report.map((v) => v.replication)).toEqual([
        { state: 'error', error: 'REPLICATION_FAILED: restic: repository is locked' },
        { state: 'error', error: 'no space left on device' },
      ]);
      for (const volume of report) expect(validatePayload(VolumeReportDto, volume).ok).toBe(true);
    });

    it('keeps a long replication error within the protocol’s 4096 characters', async () => {
      pluginVolumes.mockResolvedValue([pluginVolume(INSTANCE, 'app', { replication: { state: 'error', code: 'REPLICATION_FAILED', error: 'x'.repeat(5000) } })]);
      const [volume] = await service().volumes();
      expect(volume.replication.error).toHaveLength(4096);
      expect(validatePayload(VolumeReportDto, volume).ok).toBe(true);
    });

    it('reports the last known volumes in state error, naming the plugin, when the plugin stops answering', async () => {
      const storage = service();
      pluginVolumes.mockResolvedValueOnce([pluginVolume(INSTANCE, 'app'), pluginVolume(INSTANCE, 'link', { replication: { state: 'replicating' } })]);
      await storage.volumes();
      pluginVolumes.mockRejectedValue(new StorageControlError(0, { code: 'STORAGE_UNAVAILABLE', message: 'storage plugin at /tmp/mosaic/storage.sock: not running (no socket)' }));

      const report = await storage.volumes();
      expect(report.map((v) => [v.name, v.lastReplicatedAt, v.replication.state])).toEqual([
        [appName, REPLICATED_AT, 'error'],
        [linkName, REPLICATED_AT, 'error'],
      ]);
      for (const volume of report) {
        expect(volume.replication.error).toMatch(/storage plugin/);
        expect(volume.replication.error).toContain('not running (no socket)');
        expect(validatePayload(VolumeReportDto, volume).ok).toBe(true);
      }
    });

    it('reports the plugin’s volumes again once it answers again', async () => {
      const storage = service();
      pluginVolumes.mockResolvedValueOnce([pluginVolume(INSTANCE, 'app')]);
      await storage.volumes();
      pluginVolumes.mockRejectedValueOnce(new Error('socket hang up'));
      await storage.volumes();
      pluginVolumes.mockResolvedValueOnce([pluginVolume(INSTANCE, 'link')]);
      const report = await storage.volumes();
      expect(report.map((v) => [v.name, v.replication])).toEqual([[linkName, { state: 'idle' }]]);
    });

    it('registers the keys again when the plugin lost them (it restarted) while Hive stays connected', async () => {
      pluginVolumes.mockResolvedValue([pluginVolume(INSTANCE, 'app'), pluginVolume(INSTANCE, 'link')]);
      pluginKeys.mockResolvedValue([]);
      await service().volumes();
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(registerKey.mock.calls.map((c) => c[0]).sort()).toEqual([fingerprint(INSTANCE, 'app'), fingerprint(INSTANCE, 'link')].sort());
    });

    it('does not register anything when the plugin holds every key', async () => {
      pluginVolumes.mockResolvedValue([pluginVolume(INSTANCE, 'app'), pluginVolume(INSTANCE, 'link')]);
      pluginKeys.mockResolvedValue([fingerprint(INSTANCE, 'app'), fingerprint(INSTANCE, 'link')]);
      await service().volumes();
      await new Promise((r) => setImmediate(r));
      expect(registerKey).not.toHaveBeenCalled();
    });

    it('reports no volumes when the plugin has never answered', async () => {
      pluginVolumes.mockRejectedValue(new Error('connect ENOENT /tmp/mosaic/storage.sock'));
      await expect(service().volumes()).resolves.toEqual([]);
      expect(pluginVolumes).toHaveBeenCalled();
    });
  });

  describe('syncKeys()', () => {
    it('registers keys only for the instances whose volume fingerprints the plugin lacks', async () => {
      pluginVolumes.mockResolvedValue([
        pluginVolume(INSTANCE, 'app'),
        pluginVolume(INSTANCE, 'link'),
        pluginVolume(OTHER, 'app'),
        pluginVolume(OTHER, 'link'),
      ]);
      pluginKeys.mockResolvedValue([fingerprint(INSTANCE, 'app'), fingerprint(INSTANCE, 'link'), fingerprint(OTHER, 'app')]);

      await service().syncKeys();

      expect(keysFor.mock.calls).toEqual([[OTHER, { failover: true }]]);
      expect(registerKey.mock.calls).toEqual([
        [fingerprint(OTHER, 'app'), `private app ${OTHER}`],
        [fingerprint(OTHER, 'link'), `private link ${OTHER}`],
      ]);
    });

    it('fetches the keys of instances this device has not held since it started, though the plugin has them, so their volumes are reported', async () => {
      // A Device that restarted beside a plugin that lived on: the plugin has every key, the Device none.
      const held = new Set<string>();
      cached.mockImplementation((instance) => (held.has(instance) ? instanceKeys(instance) : undefined));
      keysFor.mockImplementation(async (instance) => {
        held.add(instance);
        return instanceKeys(instance);
      });
      pluginVolumes.mockResolvedValue([pluginVolume(INSTANCE, 'app'), pluginVolume(INSTANCE, 'link')]);
      pluginKeys.mockResolvedValue([fingerprint(INSTANCE, 'app'), fingerprint(INSTANCE, 'link')]);
      expect(await service().volumes()).toEqual([]);

      await service().syncKeys();

      expect(keysFor.mock.calls).toEqual([[INSTANCE, { failover: true }]]);
      expect((await service().volumes()).map((v) => v.name)).toEqual([appName, linkName]);
    });

    it('registers nothing when the plugin has every key', async () => {
      pluginVolumes.mockResolvedValue([pluginVolume(INSTANCE, 'app'), pluginVolume(INSTANCE, 'link')]);
      pluginKeys.mockResolvedValue([fingerprint(INSTANCE, 'app'), fingerprint(INSTANCE, 'link')]);
      await service().syncKeys();
      expect(pluginKeys).toHaveBeenCalled();
      expect(keysFor).not.toHaveBeenCalled();
      expect(registerKey).not.toHaveBeenCalled();
    });

    it('still registers the other instances’ keys when one instance’s keys cannot be had, then fails naming it', async () => {
      pluginVolumes.mockResolvedValue([pluginVolume(OTHER, 'app'), pluginVolume(INSTANCE, 'app')]);
      keysFor.mockImplementation(async (instance) => {
        if (instance === OTHER) throw new ProtocolException(ErrorCode.KEYS_MISSING, `Hive holds no keys for ${OTHER}.`);
        return instanceKeys(instance);
      });
      await expect(service().syncKeys()).rejects.toThrow(OTHER);
      expect(registerKey.mock.calls.map(([fp]) => fp)).toEqual([fingerprint(INSTANCE, 'app'), fingerprint(INSTANCE, 'link')]);
    });

    it('runs after every handshake with Hive once the application has booted', async () => {
      pluginVolumes.mockResolvedValue([pluginVolume(INSTANCE, 'app')]);
      const bothRegistered = new Promise<void>((resolve) =>
        registerKey.mockImplementation(async () => {
          if (registerKey.mock.calls.length === 2) resolve();
        }),
      );
      const storage = service();
      storage.onApplicationBootstrap();
      expect(hive.onAuthenticated).toHaveBeenCalledTimes(1);
      expect(keysFor).not.toHaveBeenCalled();

      const [listener] = hive.onAuthenticated.mock.calls[0];
      listener();
      await bothRegistered;
      expect(keysFor.mock.calls).toEqual([[INSTANCE, { failover: true }]]);
      expect(registerKey).toHaveBeenCalledTimes(2);
    });
  });
});
