import { Logger } from '@nestjs/common';
import { ErrorCode, ProtocolException } from '@mosaic/protocol';
import { join } from 'node:path';
import { FakeClock, TempDirs, deviceConfig } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { StateFileAdapter } from '../common/state-file.adapter';
import { DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { ContainerDetails, ContainerSpec, DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { OwnContainerService } from '../docker/own-container.service';
import { OutboxService } from '../hive/outbox.service';
import { StoragePluginInstaller } from '../storage/storage-plugin-installer.service';
import { HostSystemAdapter } from '../system/host-system.adapter';
import { UpgradeOutcome, UpgradePlan, UpgradeRecordStore } from './upgrade-record.store';
import { UpgradeService } from './upgrade.service';
import { WatchtowerLauncher } from './watchtower.launcher';

const COMMAND = 'c0ffee00-2222-4222-8222-222222222222';
const OWN_IMAGE_ID = 'sha256:own';
const TARGET_ID = 'sha256:target';
const REPO = '127.0.0.1:5000/mosaic/device';
/** A version newer than the one this build reports. */
const NEWER = `${Number(DEVICE_VERSION.split('.')[0]) + 1}.0.0`;

describe('UpgradeService', () => {
  const dirs = new TempDirs();
  let config: DeviceConfig;
  let stateDir: string;
  let records: UpgradeRecordStore;
  let own: ContainerDetails | undefined;
  let images: Map<string, string>;
  let calls: string[];
  let created: ContainerSpec[];
  /** What the updater does once it is started: the test writes its outcome. */
  let updaterRuns: () => void;
  let delivered: Array<(event: string, payload: unknown) => void>;
  let replacedPluginImage: string | undefined;
  /** How the engine's wait for the updater's removal goes. */
  let waitRemoved: (id: string, timeoutMs: number, signal?: AbortSignal) => Promise<void>;
  /** How a pull goes, once the test's registry has answered (`images` says what it has). */
  let pulling: () => Promise<void>;
  const clock = new FakeClock('2026-12-06T10:00:00.000Z');

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    stateDir = dirs.make();
    config = deviceConfig({ stateDir, autoUpdate: true, upgradeTimeoutS: 90 });
    records = new UpgradeRecordStore(join(stateDir, 'upgrade'), new StateFileAdapter());
    own = {
      id: 'own-id',
      name: 'mosaic-device',
      image: `${REPO}:${DEVICE_VERSION}`,
      imageId: OWN_IMAGE_ID,
      running: true,
      labels: {},
      mounts: [
        { source: '/var/run/docker.sock', destination: '/var/run/docker.sock' },
        { source: '/var/lib/docker/volumes/device-state/_data', destination: stateDir },
      ],
    };
    images = new Map([[`${REPO}:${NEWER}`, TARGET_ID]]);
    calls = [];
    created = [];
    updaterRuns = () => undefined;
    delivered = [];
    replacedPluginImage = undefined;
    waitRemoved = async () => undefined;
    pulling = async () => undefined;
  });
  afterEach(() => dirs.cleanup());

  function outcome(outcome: UpgradeOutcome['outcome'], extra: Partial<UpgradeOutcome> = {}): UpgradeOutcome {
    return { commandId: COMMAND, outcome, finishedAt: '2026-12-06T10:01:00.000Z', steps: {}, ...extra };
  }

  function service(watchtower?: WatchtowerLauncher): UpgradeService {
    const engine = strictFake<DockerEngineAdapter>(
      {
        pullImage: async (image: string) => {
          calls.push(`pull ${image}`);
          await pulling();
          if (!images.has(image)) throw new Error('manifest unknown');
        },
        imageId: async (image: string) => images.get(image),
        createContainer: async (spec: ContainerSpec) => {
          calls.push(`create ${spec.name}`);
          created.push(spec);
          return 'updater-id';
        },
        startContainer: async (id: string) => {
          calls.push(`start ${id}`);
          updaterRuns();
        },
        waitRemoved: async (id: string, timeoutMs: number, signal?: AbortSignal) => {
          calls.push(`wait ${id}`);
          await waitRemoved(id, timeoutMs, signal);
        },
        removeImage: async (id: string) => {
          calls.push(`remove image ${id}`);
          return 'removed' as const;
        },
      },
      'DockerEngineAdapter',
    );
    const ownContainer = strictFake<OwnContainerService>(
      {
        details: async () => own,
        hostPath: async (path: string) => {
          const m = own?.mounts.find((x) => path === x.destination || path.startsWith(`${x.destination}/`));
          return m && m.source + path.slice(m.destination.length);
        },
      },
      'OwnContainerService',
    );
    const upgrades = new UpgradeService(
      config,
      engine,
      ownContainer,
      strictFake<StoragePluginInstaller>({ replacedImageId: replacedPluginImage }, 'StoragePluginInstaller'),
      strictFake<HostSystemAdapter>(
        { diskUsage: async () => ({ totalBytes: 1e12, freeBytes: 1e12, availableBytes: 1e12 }) },
        'HostSystemAdapter',
      ),
      records,
      watchtower ?? strictFake<WatchtowerLauncher>({}, 'WatchtowerLauncher'),
      strictFake<OutboxService>(
        { onDelivered: (listener: (event: string, payload: unknown) => void) => void delivered.push(listener) },
        'OutboxService',
      ),
      clock.asClock(),
    );
    upgrades.onModuleInit();
    return upgrades;
  }

  async function failure(run: Promise<unknown>): Promise<{ code: string; message: string; details?: unknown }> {
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof ProtocolException)) throw new Error(`expected a ProtocolException, got ${String(err)}`);
    return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
  }

  it('pulls the target, hands the updater a plan and starts it from its own image, with the socket and the plan folder', async () => {
    updaterRuns = () => {
      own = { ...own!, id: 'new-id', imageId: TARGET_ID }; // what the device container now is
      records.writeOutcome(outcome('succeeded'));
    };
    const result = await service().upgrade(COMMAND, { version: NEWER });
    expect(calls).toEqual([
      `pull ${REPO}:${NEWER}`,
      `create mosaic-device-updater-c0ffee00`,
      'start updater-id',
      'wait updater-id',
      `remove image ${OWN_IMAGE_ID}`,
    ]);
    const [updater] = created;
    expect(updater).toMatchObject({
      image: OWN_IMAGE_ID,
      cmd: ['node', 'dist/apps/device/main.js', 'updater', '/var/lib/mosaic/upgrade'],
      binds: ['/var/run/docker.sock:/var/run/docker.sock', '/var/lib/docker/volumes/device-state/_data/upgrade:/var/lib/mosaic/upgrade'],
      labels: { 'io.mosaic.component': 'updater', 'io.mosaic.targets': 'mosaic-device' },
      lifetime: 'once',
    });
    expect(records.plan()).toEqual({
      commandId: COMMAND,
      createdAt: '2026-12-06T10:00:00.000Z',
      timeoutS: 90,
      named: true,
      device: { containerId: 'own-id', name: 'mosaic-device' },
      from: { image: `${REPO}:${DEVICE_VERSION}`, imageId: OWN_IMAGE_ID, version: DEVICE_VERSION },
      to: { image: `${REPO}:${NEWER}`, imageId: TARGET_ID, version: NEWER },
      updater: { containerId: 'updater-id', image: OWN_IMAGE_ID },
    });
    expect(result).toEqual({
      updater: { image: OWN_IMAGE_ID, containerId: 'updater-id' },
      targets: ['mosaic-device'],
      version: DEVICE_VERSION,
      image: `${REPO}:${NEWER}`,
    });
  });

  it('answers a command that named no target in the v1 shape, and never removes the image it runs', async () => {
    images.set(`${REPO}:${DEVICE_VERSION}`, OWN_IMAGE_ID); // the tag names what runs: the updater changes nothing
    updaterRuns = () => records.writeOutcome(outcome('succeeded'));
    expect(await service().upgrade(COMMAND, {})).toEqual({
      updater: { image: OWN_IMAGE_ID, containerId: 'updater-id' },
      targets: ['mosaic-device'],
    });
    expect(calls.filter((c) => c.startsWith('remove image'))).toEqual([]);
  });

  it('fails ROLLED_BACK, with the reason and the target, when the updater put the old version back; the target image goes', async () => {
    replacedPluginImage = 'sha256:plugin-of-the-target';
    updaterRuns = () =>
      records.writeOutcome(
        outcome('rolled_back', { reason: 'unhealthy', message: 'it did not come up; mosaic-device runs the old one again.' }),
      );
    expect(await failure(service().upgrade(COMMAND, { version: NEWER }))).toEqual({
      code: ErrorCode.ROLLED_BACK,
      message: 'it did not come up; mosaic-device runs the old one again.',
      details: { reason: 'unhealthy', image: `${REPO}:${NEWER}`, version: NEWER },
    });
    expect(calls.filter((c) => c.startsWith('remove image'))).toEqual([
      `remove image ${TARGET_ID}`,
      'remove image sha256:plugin-of-the-target',
    ]);
  });

  it('fails DOCKER_ERROR, removing nothing, when the updater failed', async () => {
    updaterRuns = () => records.writeOutcome(outcome('failed', { message: 'putting it back failed too' }));
    expect(await failure(service().upgrade(COMMAND, { version: NEWER }))).toEqual({
      code: ErrorCode.DOCKER_ERROR,
      message: 'putting it back failed too',
    });
    expect(calls.filter((c) => c.startsWith('remove image'))).toEqual([]);
  });

  it('stops waiting when the device stops, leaving the command unfinished for the device that runs next', async () => {
    let aborted!: () => void;
    const abortedSeen = new Promise<void>((resolve) => (aborted = resolve));
    waitRemoved = (_id, _ms, signal) =>
      new Promise((_, reject) =>
        signal?.addEventListener('abort', () => {
          aborted();
          reject(new Error('aborted'));
        }),
      );
    const upgrades = service();
    let settled = false;
    void upgrades.upgrade(COMMAND, { version: NEWER }).finally(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toContain('wait updater-id');
    upgrades.onApplicationShutdown();
    await abortedSeen;
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
  });

  it('fails INTERNAL when the updater ended without an outcome', async () => {
    expect(await failure(service().upgrade(COMMAND, { version: NEWER }))).toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringMatching(/without an outcome/),
    });
  });

  it('refuses a target the Hive may not name before it pulls anything', async () => {
    expect(await failure(service().upgrade(COMMAND, { image: 'evil.example/rootkit:1', version: NEWER }))).toMatchObject({
      code: ErrorCode.INVALID_PARAMS,
    });
    expect(await failure(service().upgrade(COMMAND, { version: DEVICE_VERSION }))).toMatchObject({ code: ErrorCode.INVALID_PARAMS });
    expect(calls).toEqual([]);
  });

  it('fails DOCKER_ERROR when the target cannot be pulled and the engine does not have it; takes one it has', async () => {
    expect(await failure(service().upgrade(COMMAND, { version: `${NEWER}-rc.1` }))).toEqual({
      code: ErrorCode.DOCKER_ERROR,
      message: `The image ${REPO}:${NEWER}-rc.1 could not be pulled: manifest unknown.`,
    });
    expect(calls).toEqual([`pull ${REPO}:${NEWER}-rc.1`]);
  });

  it('gives up a pull that does not end within UPGRADE_TIMEOUT_S', async () => {
    jest.useFakeTimers();
    try {
      pulling = () => new Promise(() => undefined); // a registry that never answers
      const failed = failure(service().upgrade(COMMAND, { version: `${NEWER}-rc.2` }));
      await jest.advanceTimersByTimeAsync(90_000);
      expect(await failed).toEqual({
        code: ErrorCode.DOCKER_ERROR,
        message: `The image ${REPO}:${NEWER}-rc.2 could not be pulled: not pulled within 90 s.`,
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it('will not start when STATE_DIR is not on a mount: a new container would lose its state', async () => {
    own!.mounts = own!.mounts.filter((m) => m.destination !== stateDir);
    expect(await failure(service().upgrade(COMMAND, { version: NEWER }))).toMatchObject({
      code: ErrorCode.INTERNAL,
      message: expect.stringMatching(/STATE_DIR .* is not on a mount/),
    });
    expect(calls).toEqual([]);
  });

  it('answers NOT_IN_CONTAINER outside a container', async () => {
    own = undefined;
    expect(await failure(service().upgrade(COMMAND, {}))).toMatchObject({ code: ErrorCode.NOT_IN_CONTAINER });
  });

  it('hands UPDATER=watchtower to the Watchtower launcher', async () => {
    config = { ...config, updater: 'watchtower' };
    const launched = { updater: { image: 'nickfedor/watchtower:1.21.0', containerId: 'w' }, targets: ['mosaic-device'] };
    const launch = jest.fn(async () => launched);
    expect(await service(strictFake<WatchtowerLauncher>({ launch }, 'WatchtowerLauncher')).upgrade(COMMAND, { version: NEWER })).toBe(
      launched,
    );
    expect(launch).toHaveBeenCalledWith(own);
  });

  /** The plan the device that started the upgrade (an older version, by then replaced) left in STATE_DIR. */
  function planByAnEarlierDevice(): UpgradePlan {
    return {
      commandId: COMMAND,
      createdAt: '2026-12-06T10:00:00.000Z',
      timeoutS: 90,
      named: true,
      device: { containerId: 'old-id', name: 'mosaic-device' },
      from: { image: `${REPO}:0.0.1`, imageId: 'sha256:old', version: '0.0.1' },
      to: { image: `${REPO}:${DEVICE_VERSION}`, imageId: OWN_IMAGE_ID, version: DEVICE_VERSION },
      updater: { containerId: 'updater-id', image: 'sha256:old' },
    };
  }

  describe('after a restart', () => {
    it('resumes the command of the plan in STATE_DIR: the outcome is its result', async () => {
      records.startPlan(planByAnEarlierDevice());
      const upgrades = service();
      expect(upgrades.resume('another-command')).toBeUndefined();
      records.writeOutcome(outcome('succeeded'));
      expect(await upgrades.resume(COMMAND)).toEqual({
        updater: { image: 'sha256:old', containerId: 'updater-id' },
        targets: ['mosaic-device'],
        version: DEVICE_VERSION,
        image: `${REPO}:${DEVICE_VERSION}`,
      });
      expect(calls).toEqual(['wait updater-id', 'remove image sha256:old']);
    });

    it('has nothing to resume without a plan', () => {
      expect(service().resume(COMMAND)).toBeUndefined();
    });
  });

  describe('the acknowledged version, which the updater waits for', () => {
    it('notes a report.version the Hive acknowledged while an upgrade waits, with this container', async () => {
      service();
      records.startPlan(planByAnEarlierDevice());
      for (const listener of delivered) listener('report.apps', { at: 'x', apps: [] });
      expect(records.acknowledged()).toBeUndefined();
      for (const listener of delivered) listener('report.version', { at: 'x', version: NEWER, autoUpdate: true });
      await new Promise((resolve) => setImmediate(resolve));
      expect(records.acknowledged()).toEqual({ containerId: 'own-id', version: NEWER, at: '2026-12-06T10:00:00.000Z' });
    });

    it('notes nothing when no upgrade waits', async () => {
      await service().versionAcknowledged(NEWER);
      expect(records.acknowledged()).toBeUndefined();
    });
  });
});
