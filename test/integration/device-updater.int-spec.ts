import { Logger } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StateFileAdapter } from '../../apps/device/src/common/state-file.adapter';
import { ContainerSwap } from '../../apps/device/src/docker/container-swap';
import { DockerEngineAdapter } from '../../apps/device/src/docker/docker-engine.adapter';
import { DeviceUpdater } from '../../apps/device/src/updater/device-updater';
import { UpgradePlan, UpgradeRecordStore } from '../../apps/device/src/upgrade/upgrade-record.store';
import { TEST_IMAGE, engine } from '../support/engine';
import { eventually } from '../support/eventually';

jest.setTimeout(180_000);
const run = promisify(execFile);

/**
 * Mosaic's updater against the real engine, on stand-in "device" images (busybox, so no Mosaic
 * image has to be built here; test/e2e/upgrade.e2e-spec.ts runs the real ones). The test plays
 * the new device's one part the updater waits for: the Hive acknowledging its version.
 */
describe('DeviceUpdater on the real engine', () => {
  const suffix = randomBytes(4).toString('hex');
  const repo = `mosaic-test/fake-device-${suffix}`;
  const name = `mosaic-test-device-${suffix}`;
  const networks = [`mosaic-test-front-${suffix}`, `mosaic-test-back-${suffix}`];
  const volume = `mosaic-test-state-${suffix}`;
  const root = mkdtempSync(join(tmpdir(), 'mosaic-updater-'));
  const secret = join(root, 'token');
  const adapter = new DockerEngineAdapter({ dockerHost: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock', engineTimeoutS: 30 });
  let records: UpgradeRecordStore;
  let acknowledging: boolean;

  /** A stand-in device image: its own defaults (environment, label, command, volume) and a health check. */
  async function build(tag: string, version: string, healthy: boolean): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'mosaic-fake-device-'));
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        `FROM ${TEST_IMAGE}`,
        `ENV DEVICE_VERSION=${version} DEFAULT_ONLY=${tag}`,
        `LABEL org.opencontainers.image.version=${version}`,
        'VOLUME ["/state"]',
        // sleep as PID 1 ignores SIGTERM: without this each stop would wait out its grace period.
        'STOPSIGNAL SIGKILL',
        `HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ${healthy ? 'true' : 'false'}`,
        'CMD ["sleep", "3600"]',
      ].join('\n'),
    );
    await run('docker', ['build', '-q', '-t', `${repo}:${tag}`, dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    rmSync(dir, { recursive: true, force: true });
    return (await engine.getImage(`${repo}:${tag}`).inspect()).Id;
  }

  const ids: Record<string, string> = {};

  beforeAll(async () => {
    Logger.overrideLogger(false);
    ids.a = await build('a', '0.1.0', true);
    ids.b = await build('b', '0.2.0', true);
    ids.c = await build('c', '0.3.0', false);
    for (const network of networks) await engine.createNetwork({ Name: network });
    await engine.createVolume({ Name: volume });
    writeFileSync(secret, 'token\n', { mode: 0o600 });
    // The device as a compose file would make it: a named volume, a secret, its own environment and
    // labels, a restart policy, two networks with aliases, and its image's anonymous volume.
    const device = await engine.createContainer({
      name,
      Image: `${repo}:a`,
      Env: ['HIVE_URL=https://hive.example', 'AUTO_UPDATE=true'],
      Labels: { 'com.docker.compose.service': 'device', 'io.mosaic.component': 'device' },
      Healthcheck: { Interval: 1e9 },
      HostConfig: {
        RestartPolicy: { Name: 'unless-stopped' },
        Mounts: [
          { Type: 'volume', Source: volume, Target: '/var/lib/mosaic/device' },
          { Type: 'bind', Source: secret, Target: '/run/secrets/token', ReadOnly: true },
        ],
        NetworkMode: networks[0],
      },
      NetworkingConfig: { EndpointsConfig: { [networks[0]]: { Aliases: ['device'] } } },
    });
    await engine.getNetwork(networks[1]).connect({ Container: device.id, EndpointConfig: { Aliases: ['device-backend'] } });
    await device.start();
    // State in the anonymous volume and in the named one: both must be the new container's.
    await run('docker', ['exec', name, 'sh', '-c', 'echo kept > /state/anonymous && echo kept > /var/lib/mosaic/device/named']);
  });

  afterAll(async () => {
    const ours = await engine.listContainers({ all: true, filters: { name: [name] } });
    for (const c of ours)
      await engine
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    for (const network of networks)
      await engine
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
    await engine
      .getVolume(volume)
      .remove()
      .catch(() => undefined);
    for (const tag of ['a', 'b', 'c'])
      await engine
        .getImage(`${repo}:${tag}`)
        .remove({ force: true })
        .catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    records = new UpgradeRecordStore(mkdtempSync(join(root, 'records-')), new StateFileAdapter());
    acknowledging = true;
  });

  /** The new device: once its container runs, "the Hive acknowledges" its version. */
  async function acknowledgeWhenRunning(image: string, version: string): Promise<void> {
    const container = await eventually(
      `a container of ${image} running`,
      async () => (await engine.listContainers({ filters: { name: [name], ancestor: [image] } }))[0],
      (c) => c !== undefined,
      60_000,
    );
    if (acknowledging) records.writeAcknowledged({ containerId: container.Id, version, at: new Date().toISOString() });
  }

  async function upgrade(tag: 'a' | 'b' | 'c', version: string, timeoutS: number) {
    const current = await engine.getContainer(name).inspect();
    const plan: UpgradePlan = {
      commandId: randomUUID(),
      createdAt: new Date().toISOString(),
      timeoutS,
      named: true,
      device: { containerId: current.Id, name },
      from: { image: current.Config.Image, imageId: current.Image, version: 'x' },
      to: { image: `${repo}:${tag}`, imageId: ids[tag], version },
    };
    records.startPlan(plan);
    const device = acknowledgeWhenRunning(`${repo}:${tag}`, version).catch(() => undefined);
    const outcome = await new DeviceUpdater(adapter, new ContainerSwap(adapter), records).run();
    await device;
    return { before: current, outcome: outcome!, after: await engine.getContainer(name).inspect() };
  }

  it('replaces the device container by one of the new image with exactly its configuration, keeping its state', async () => {
    const { before, outcome, after } = await upgrade('b', '0.2.0', 60);
    expect(outcome).toMatchObject({ outcome: 'succeeded' });
    expect(after.Id).not.toBe(before.Id);
    expect(after.Image).toBe(ids.b);
    expect(after.Config.Image).toBe(`${repo}:b`);
    expect(after.State).toMatchObject({ Running: true, Health: { Status: 'healthy' } });
    expect(after.HostConfig.RestartPolicy).toEqual(before.HostConfig.RestartPolicy);
    // Its own environment and labels stay; what came from the old image follows the new one.
    expect(after.Config.Env).toEqual(
      expect.arrayContaining(['HIVE_URL=https://hive.example', 'AUTO_UPDATE=true', 'DEVICE_VERSION=0.2.0', 'DEFAULT_ONLY=b']),
    );
    expect(after.Config.Env).not.toContain('DEFAULT_ONLY=a');
    expect(after.Config.Labels).toEqual({
      'com.docker.compose.service': 'device',
      'io.mosaic.component': 'device',
      'org.opencontainers.image.version': '0.2.0',
    });
    expect(after.Config.Healthcheck).toMatchObject({ Interval: 1e9 });
    expect(after.Config.Hostname).toBe(after.Id.slice(0, 12)); // its own, as the engine names a new container
    // Networks with their aliases, the named volume, the secret, and the anonymous volume, same data.
    for (const [network, alias] of [
      [networks[0], 'device'],
      [networks[1], 'device-backend'],
    ]) {
      expect(after.NetworkSettings.Networks[network].Aliases).toContain(alias);
    }
    const mounts = (c: typeof after) =>
      c.Mounts.map((m) => ({
        type: m.Type,
        name: m.Name,
        source: m.Type === 'bind' ? m.Source : undefined,
        destination: m.Destination,
        rw: m.RW,
      }));
    expect(mounts(after).sort((x, y) => x.destination.localeCompare(y.destination))).toEqual(
      mounts(before).sort((x, y) => x.destination.localeCompare(y.destination)),
    );
    const { stdout } = await run('docker', ['exec', name, 'cat', '/state/anonymous', '/var/lib/mosaic/device/named', '/run/secrets/token']);
    expect(stdout).toBe('kept\nkept\ntoken\n');
    // The old container is gone; its image is the caller's to remove.
    await expect(engine.getContainer(before.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('puts the previous container back, under its name and with its restart policy, when the new one turns unhealthy', async () => {
    const started = Date.now();
    const { before, outcome, after } = await upgrade('c', '0.3.0', 60);
    expect(outcome).toMatchObject({ outcome: 'rolled_back', reason: 'unhealthy' });
    expect(Date.now() - started).toBeLessThan(60_000); // it did not wait for the deadline
    expect(after.Id).toBe(before.Id);
    expect(after.State.Running).toBe(true);
    expect(after.HostConfig.RestartPolicy).toEqual({ Name: 'unless-stopped', MaximumRetryCount: 0 });
    expect(await engine.listContainers({ all: true, filters: { ancestor: [`${repo}:c`] } })).toEqual([]);
    const { stdout } = await run('docker', ['exec', name, 'cat', '/state/anonymous']);
    expect(stdout).toBe('kept\n');
  });

  it('puts it back at the deadline when the Hive never acknowledged the new version, healthy as it is', async () => {
    acknowledging = false;
    const { before, outcome, after } = await upgrade('a', '0.1.0', 5);
    expect(outcome).toMatchObject({
      outcome: 'rolled_back',
      reason: 'timeout',
      message: expect.stringContaining('the Hive did not acknowledge its version within 5 s'),
    });
    expect(after.Id).toBe(before.Id);
    expect(after.Image).toBe(ids.b);
  });
});
