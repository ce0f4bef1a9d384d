import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode } from '@mosaic/protocol';
import { DeviceConfig } from '../../apps/device/src/config/device-config';
import { RunningDevice, startDevice, tempRoot, testDeviceConfig } from '../support/device-harness';
import { TEST_IMAGE, engine } from '../support/engine';

jest.setTimeout(120_000);
const run = promisify(execFile);

/** A stand-in for the updater: it keeps its arguments for the test to read, and does nothing. */
const STAND_IN = `mosaic-test/updater:${randomBytes(4).toString('hex')}`;

async function buildStandIn(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mosaic-updater-'));
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nENTRYPOINT ["sh", "-c", "sleep 60", "updater"]\n`);
  await run('docker', ['build', '-q', '-t', STAND_IN, dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  rmSync(dir, { recursive: true, force: true });
}

async function sleeper(name: string, labels: Record<string, string>, binds = ['/var/run/docker.sock:/var/run/docker.sock']): Promise<string> {
  const container = await engine.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['sleep', '600'],
    Labels: labels,
    HostConfig: { Binds: binds, AutoRemove: true },
  });
  await container.start();
  return container.id;
}

describe('UpgradeCommand.run on the real engine', () => {
  const root = tempRoot('upgrade');
  const suffix = randomBytes(4).toString('hex');
  const deviceName = `mosaic-test-device-${suffix}`;
  const pluginName = `mosaic-test-plugin-${suffix}`;
  const cleanup: string[] = [];
  const DRIVER = `mosaic-test-${suffix}`;
  let device: RunningDevice | undefined;

  /** A device "in" the sleeper container deviceName that installs its plugin container (the stand-in image) at boot. */
  function installingDevice(changes: Partial<DeviceConfig> = {}): Promise<RunningDevice> {
    const env = { STORAGE_PLUGIN_MODE: 'container', STORAGE_PLUGIN_IMAGE: STAND_IN, STORAGE_PLUGIN_CONTAINER: pluginName, STORAGE_PLUGIN_WAIT_S: '1', REPLICA_URL: join(root.path, 'replicas') };
    const config = testDeviceConfig(root.path, { autoUpdate: true, updater: 'watchtower', updaterImage: STAND_IN, deviceContainer: deviceName, storageDriver: DRIVER, ...changes }, env);
    return startDevice(config);
  }

  beforeAll(async () => {
    await buildStandIn();
    // The device's container holds the folders it shares with its plugin (the socket folder) at the same path.
    cleanup.push(await sleeper(deviceName, { 'io.mosaic.component': 'device' }, ['/var/run/docker.sock:/var/run/docker.sock', `${root.path}:${root.path}`]));
    // Containers that only look like this device's plugin (an app could label its own so): never an upgrade target.
    cleanup.push(await sleeper(`${pluginName}-decoy`, { 'io.mosaic.component': 'storage-plugin', 'io.mosaic.storage-driver': DRIVER }));
    cleanup.push(await sleeper(`${pluginName}-other`, { 'io.mosaic.component': 'storage-plugin', 'io.mosaic.storage-driver': `${DRIVER}-other` }));
  });

  afterEach(async () => {
    await device?.close();
    device = undefined;
  });

  afterAll(async () => {
    const updaters = await engine.listContainers({ all: true, filters: { label: ['io.mosaic.component=updater'] } });
    for (const id of [...cleanup, pluginName, ...updaters.filter((u) => u.Image === STAND_IN).map((u) => u.Id)]) {
      await engine.getContainer(id).remove({ force: true }).catch(() => undefined);
    }
    await engine.getImage(STAND_IN).remove({ force: true }).catch(() => undefined);
    root.remove();
  });

  it('UPDATER=watchtower: starts the configured Watchtower once, for the device and the plugin container it installed, with the engine socket', async () => {
    device = await installingDevice();
    const installed = await engine.getContainer(pluginName).inspect();
    const { ack, result } = await device.command('UpgradeCommand.run', {});
    expect(ack.accepted).toBe(true);
    expect(result.ok).toBe(true);
    expect(result.result).toEqual({ updater: { image: STAND_IN, containerId: expect.stringMatching(/^[0-9a-f]{64}$/) }, targets: [deviceName, pluginName] });

    const updater = await engine.getContainer(result.result.updater.containerId).inspect();
    expect(updater.Config.Image).toBe(STAND_IN);
    expect(updater.Config.Cmd).toEqual(['--run-once', '--cleanup', deviceName, pluginName]);
    expect(updater.HostConfig.Binds).toEqual(['/var/run/docker.sock:/var/run/docker.sock']);
    expect(updater.HostConfig.AutoRemove).toBe(true);
    expect(updater.Config.Labels).toMatchObject({ 'io.mosaic.component': 'updater', 'io.mosaic.targets': `${deviceName},${pluginName}` });
    expect(updater.Config.Env).toEqual(expect.arrayContaining([expect.stringMatching(/^DOCKER_API_VERSION=\d+\.\d+$/)]));
    expect(updater.State.Running).toBe(true);
    expect((await engine.getContainer(pluginName).inspect()).Id).toBe(installed.Id);
  });

  it('targets no container by its labels: without a plugin container it installed, only the device', async () => {
    await engine.getContainer(pluginName).remove({ force: true });
    device = await startDevice(testDeviceConfig(root.path, { autoUpdate: true, updater: 'watchtower', updaterImage: STAND_IN, deviceContainer: deviceName, storageDriver: DRIVER }));
    const { result } = await device.command('UpgradeCommand.run', {});
    expect(result.result.targets).toEqual([deviceName]);
  });

  describe('UPDATER=mosaic (the default): nothing changes when the target is refused or cannot be had', () => {
    async function updaters(): Promise<string[]> {
      return (await engine.listContainers({ all: true, filters: { label: ['io.mosaic.component=updater'] } })).map((c) => c.Id);
    }

    it('refuses, in its result, an image of another repository than its own, and starts no updater', async () => {
      device = await startDevice(testDeviceConfig(root.path, { autoUpdate: true, deviceContainer: deviceName }));
      const before = await updaters();
      const { ack, result } = await device.command('UpgradeCommand.run', { image: 'evil.example/rootkit:9.9.9', version: '9.9.9' });
      expect(ack.accepted).toBe(true);
      expect(result.error).toMatchObject({ code: ErrorCode.INVALID_PARAMS, details: [{ field: 'params.image' }] });
      expect(await updaters()).toEqual(before);
      expect((await engine.getContainer(deviceName).inspect()).State.Running).toBe(true);
    });

    it('fails DOCKER_ERROR when the target cannot be pulled, and starts no updater', async () => {
      device = await startDevice(testDeviceConfig(root.path, { autoUpdate: true, deviceContainer: deviceName }));
      const before = await updaters();
      const { result } = await device.command('UpgradeCommand.run', { version: '9.9.9' });
      expect(result.error).toMatchObject({ code: ErrorCode.DOCKER_ERROR, message: expect.stringMatching(/mosaic-test\/busybox:9\.9\.9 could not be pulled/) });
      expect(await updaters()).toEqual(before);
    });

    it('refuses INVALID_PARAMS in the acknowledgement a target that is no image reference', async () => {
      device = await startDevice(testDeviceConfig(root.path, { autoUpdate: true, deviceContainer: deviceName }));
      const { ack } = await device.command('UpgradeCommand.run', { image: 'busybox --privileged' });
      expect(ack).toMatchObject({ accepted: false, error: { code: ErrorCode.INVALID_PARAMS, details: [{ field: 'params.image' }] } });
    });
  });

  it('is NOT_ALLOWED without AUTO_UPDATE=true', async () => {
    device = await startDevice(testDeviceConfig(root.path, { autoUpdate: false, updaterImage: STAND_IN, deviceContainer: deviceName }));
    const { ack } = await device.command('UpgradeCommand.run', {});
    expect(ack).toMatchObject({ accepted: false, error: { code: ErrorCode.NOT_ALLOWED } });
  });

  it('fails NOT_IN_CONTAINER when the device is a plain process', async () => {
    device = await startDevice(testDeviceConfig(root.path, { autoUpdate: true, updaterImage: STAND_IN }));
    const { result } = await device.command('UpgradeCommand.run', {});
    expect(result.error.code).toBe(ErrorCode.NOT_IN_CONTAINER);
  });

  it('fails INSUFFICIENT_DISK when too little is free for new images, and starts nothing', async () => {
    device = await startDevice(testDeviceConfig(root.path, { autoUpdate: true, updaterImage: STAND_IN, deviceContainer: deviceName, upgradeMinFreeMb: 1024 * 1024 * 1024 }));
    const before = await engine.listContainers({ all: true, filters: { label: ['io.mosaic.component=updater'] } });
    const { result } = await device.command('UpgradeCommand.run', {});
    expect(result.error.code).toBe(ErrorCode.INSUFFICIENT_DISK);
    const after = await engine.listContainers({ all: true, filters: { label: ['io.mosaic.component=updater'] } });
    expect(after.length).toBe(before.length);
  });
});
