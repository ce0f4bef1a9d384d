import { Logger } from '@nestjs/common';
import { TempDirs } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { StateFileAdapter } from '../common/state-file.adapter';
import { ContainerSwap } from '../docker/container-swap';
import {
  CreateOptions,
  DockerEngineAdapter,
  EndpointConfig,
  InspectedContainer,
  InspectedImage,
  RestartPolicy,
} from '../docker/docker-engine.adapter';
import { UpgradePlan, UpgradeRecordStore } from '../upgrade/upgrade-record.store';
import { DeviceUpdater, UpdaterTime, VERIFY_POLL_MS } from './device-updater';

const COMMAND = 'c0ffee00-1111-4111-8111-111111111111';
const OLD_IMAGE = 'sha256:old';
const NEW_IMAGE = 'sha256:new';

type State = InspectedContainer['State'];

/** An engine of a few containers in memory, enough for a swap; the test says how the new one behaves. */
class FakeEngine {
  readonly containers = new Map<string, InspectedContainer>();
  readonly log: string[] = [];
  /** How the container created from the target looks at its n-th inspect after its start. */
  newState: (n: number) => State = () => ({
    Status: 'running',
    Running: true,
    Restarting: false,
    ExitCode: 0,
    Health: { Status: 'healthy' },
  });
  /** The image id a create from the target reference resolves to. */
  resolves = NEW_IMAGE;
  private inspections = 0;
  private next = 0;

  constructor() {
    this.containers.set('old-id', {
      Id: 'old-id',
      Name: '/mosaic-device',
      Image: OLD_IMAGE,
      State: { Status: 'running', Running: true, Restarting: false, ExitCode: 0 },
      Config: { Image: 'registry.example/mosaic/device:0.1.0', Env: ['HIVE_URL=https://hive.example'] },
      HostConfig: { NetworkMode: 'mosaic_default', RestartPolicy: { Name: 'unless-stopped' } },
      NetworkSettings: { Networks: { mosaic_default: { Aliases: ['device'] } } },
      Mounts: [],
    });
  }

  byName(name: string): InspectedContainer | undefined {
    return [...this.containers.values()].find((c) => c.Name === `/${name}`);
  }

  adapter(): DockerEngineAdapter {
    const find = (id: string) => {
      const c = this.containers.get(id);
      if (!c) throw Object.assign(new Error(`no such container ${id}`), { statusCode: 404 });
      return c;
    };
    return strictFake<DockerEngineAdapter>(
      {
        inspectContainerRaw: async (id: string) => {
          const c = this.containers.get(id);
          if (c && c.Image === this.resolves && c.State.Running) c.State = this.newState(this.inspections++);
          return c && JSON.parse(JSON.stringify(c));
        },
        inspectImage: async (id: string): Promise<InspectedImage> => ({ Id: id, Config: { Env: ['PATH=/usr/bin'] } }),
        createContainerFrom: async (options: CreateOptions) => {
          if (this.byName(options.name)) throw new Error(`the name ${options.name} is in use`);
          const id = `new-id-${this.next++}`;
          this.log.push(`create ${options.name} from ${options.Image}`);
          this.containers.set(id, {
            Id: id,
            Name: `/${options.name}`,
            Image: this.resolves,
            State: { Status: 'created', Running: false, Restarting: false, ExitCode: 0 },
            Config: { Image: options.Image },
            HostConfig: options.HostConfig as InspectedContainer['HostConfig'],
            NetworkSettings: { Networks: {} },
            Mounts: [],
          });
          return id;
        },
        connectNetwork: async (network: string, id: string, _endpoint: EndpointConfig) => void this.log.push(`connect ${id} ${network}`),
        renameContainer: async (id: string, name: string) => {
          if (this.byName(name)) throw new Error(`the name ${name} is in use`);
          find(id).Name = `/${name}`;
          this.log.push(`rename ${id} ${name}`);
        },
        setRestartPolicy: async (id: string, policy: RestartPolicy) => {
          find(id).HostConfig.RestartPolicy = policy;
        },
        stopContainer: async (id: string) => {
          find(id).State = { Status: 'exited', Running: false, Restarting: false, ExitCode: 0 };
          this.log.push(`stop ${id}`);
        },
        startContainer: async (id: string) => {
          const c = find(id);
          c.State = { ...c.State, Status: 'running', Running: true };
          this.log.push(`start ${id}`);
        },
        removeContainer: async (id: string) => {
          this.containers.delete(id);
          this.log.push(`remove ${id}`);
        },
      },
      'DockerEngineAdapter',
    );
  }
}

describe('DeviceUpdater', () => {
  const dirs = new TempDirs();
  let engine: FakeEngine;
  let records: UpgradeRecordStore;
  let clock: number;
  const time: UpdaterTime = {
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  };

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    engine = new FakeEngine();
    records = new UpgradeRecordStore(dirs.make(), new StateFileAdapter());
    clock = Date.parse('2026-12-06T10:00:00.000Z');
  });
  afterEach(() => dirs.cleanup());

  function plan(overrides: Partial<UpgradePlan> = {}): UpgradePlan {
    const p: UpgradePlan = {
      commandId: COMMAND,
      createdAt: '2026-12-06T10:00:00.000Z',
      timeoutS: 60,
      named: true,
      device: { containerId: 'old-id', name: 'mosaic-device' },
      from: { image: 'registry.example/mosaic/device:0.1.0', imageId: OLD_IMAGE, version: '0.1.0' },
      to: { image: 'registry.example/mosaic/device:0.2.0', imageId: NEW_IMAGE, version: '0.2.0' },
      ...overrides,
    };
    records.startPlan(p);
    return p;
  }

  /** The new device: its report.version acknowledged by the Hive, once it runs. */
  function acknowledge(version = '0.2.0'): void {
    const created = [...engine.containers.values()].find((c) => c.Image === NEW_IMAGE);
    records.writeAcknowledged({ containerId: created!.Id, version, at: new Date(clock).toISOString() });
  }

  function updater(): DeviceUpdater {
    const adapter = engine.adapter();
    return new DeviceUpdater(adapter, new ContainerSwap(adapter), records, time);
  }

  it('replaces the device container once the new one is healthy and its version acknowledged, and writes that as its last act', async () => {
    plan();
    engine.newState = (n) => {
      if (n === 2) acknowledge();
      return { Status: 'running', Running: true, Restarting: false, ExitCode: 0, Health: { Status: n < 2 ? 'starting' : 'healthy' } };
    };
    const outcome = await updater().run();
    expect(outcome).toMatchObject({ commandId: COMMAND, outcome: 'succeeded' });
    expect(outcome!.steps).toEqual({ aside: 0, created: 0, stopped: 0, started: 0, verified: 2 * VERIFY_POLL_MS });
    expect(records.outcome(COMMAND)).toEqual(outcome);
    expect(engine.containers.has('old-id')).toBe(false);
    const current = engine.byName('mosaic-device')!;
    expect(current).toMatchObject({ Image: NEW_IMAGE, State: { Running: true } });
    expect(current.HostConfig.RestartPolicy).toEqual({ Name: 'unless-stopped' });
    expect(engine.log.indexOf('stop old-id')).toBeLessThan(engine.log.indexOf(`start ${current.Id}`));
  });

  it('rolls back when the new container turns unhealthy, saying what its health check said', async () => {
    plan();
    engine.newState = () => ({
      Status: 'running',
      Running: true,
      Restarting: false,
      ExitCode: 0,
      Health: { Status: 'unhealthy', Log: [{ ExitCode: 1, Output: 'Hive not connected\n' }] },
    });
    const outcome = await updater().run();
    expect(outcome).toMatchObject({
      outcome: 'rolled_back',
      reason: 'unhealthy',
      message:
        'registry.example/mosaic/device:0.2.0 did not come up: its health check failed: Hive not connected; mosaic-device runs registry.example/mosaic/device:0.1.0 again.',
    });
    expect(engine.byName('mosaic-device')).toMatchObject({
      Id: 'old-id',
      Image: OLD_IMAGE,
      State: { Running: true },
      HostConfig: { RestartPolicy: { Name: 'unless-stopped' } },
    });
    expect([...engine.containers.keys()]).toEqual(['old-id']);
  });

  it('rolls back when the new container exits', async () => {
    plan();
    engine.newState = () => ({ Status: 'exited', Running: false, Restarting: false, ExitCode: 78 });
    expect(await updater().run()).toMatchObject({
      outcome: 'rolled_back',
      reason: 'exited',
      message: expect.stringContaining('it exited with status 78'),
    });
  });

  it('rolls back at the deadline when the new container never turns healthy', async () => {
    plan({ timeoutS: 30 });
    engine.newState = () => ({ Status: 'running', Running: true, Restarting: false, ExitCode: 0, Health: { Status: 'starting' } });
    const outcome = await updater().run();
    expect(outcome).toMatchObject({
      outcome: 'rolled_back',
      reason: 'timeout',
      message: expect.stringContaining('it did not turn healthy within 30 s (health: starting)'),
    });
    expect(outcome!.steps.restored).toBe(30_000);
  });

  it('rolls back at the deadline when the Hive never acknowledged the new version', async () => {
    plan({ timeoutS: 30 });
    expect(await updater().run()).toMatchObject({
      outcome: 'rolled_back',
      reason: 'timeout',
      message: expect.stringContaining('the Hive did not acknowledge its version within 30 s'),
    });
  });

  it('does not count an acknowledgement of the old container', async () => {
    plan({ timeoutS: 5 });
    records.writeAcknowledged({ containerId: 'old-id', version: '0.2.0', at: new Date(clock).toISOString() });
    expect(await updater().run()).toMatchObject({ outcome: 'rolled_back', reason: 'timeout' });
  });

  it('rolls back a container that runs another version than the one asked for', async () => {
    plan();
    engine.newState = (n) => {
      if (n === 0) acknowledge('0.1.9');
      return { Status: 'running', Running: true, Restarting: false, ExitCode: 0, Health: { Status: 'healthy' } };
    };
    expect(await updater().run()).toMatchObject({
      outcome: 'rolled_back',
      reason: 'wrong_version',
      message: expect.stringContaining('it runs version 0.1.9, not 0.2.0'),
    });
  });

  it('takes any acknowledged version when the command named none', async () => {
    plan({ named: false, to: { image: 'registry.example/mosaic/device:latest', imageId: NEW_IMAGE } });
    engine.newState = (n) => {
      if (n === 0) acknowledge('0.1.1');
      return { Status: 'running', Running: true, Restarting: false, ExitCode: 0, Health: { Status: 'healthy' } };
    };
    expect(await updater().run()).toMatchObject({ outcome: 'succeeded' });
  });

  it('rolls back when the tag names another image by the time it creates the container, leaving no trace of the new one', async () => {
    plan();
    engine.resolves = 'sha256:moved';
    const outcome = await updater().run();
    expect(outcome).toMatchObject({
      outcome: 'rolled_back',
      reason: 'start_failed',
      message: expect.stringContaining('names another image than the one pulled'),
    });
    expect([...engine.containers.keys()]).toEqual(['old-id']);
    expect(engine.log).not.toContain('stop old-id');
  });

  it('changes nothing when the device runs the target already', async () => {
    plan({ to: { image: 'registry.example/mosaic/device:0.1.0', imageId: OLD_IMAGE } });
    expect(await updater().run()).toMatchObject({ outcome: 'succeeded' });
    expect(engine.log).toEqual([]);
  });

  it('refuses a container that runs with --rm: stopped, it could not be put back', async () => {
    plan();
    engine.containers.get('old-id')!.HostConfig.AutoRemove = true;
    expect(await updater().run()).toMatchObject({ outcome: 'failed', message: expect.stringContaining('runs with --rm') });
    expect(engine.log).toEqual([]);
  });

  it('fails, changing nothing, when the device container is gone', async () => {
    plan({ device: { containerId: 'gone', name: 'mosaic-device' } });
    expect(await updater().run()).toMatchObject({ outcome: 'failed', message: expect.stringContaining('is gone') });
  });

  it('does nothing without a plan, and only repeats the outcome of one that ended', async () => {
    expect(await updater().run()).toBeUndefined();
    plan();
    const outcome = {
      commandId: COMMAND,
      outcome: 'rolled_back' as const,
      reason: 'timeout' as const,
      message: 'earlier',
      finishedAt: '2026-12-06T10:01:00.000Z',
      steps: {},
    };
    records.writeOutcome(outcome);
    expect(await updater().run()).toEqual(outcome);
    expect(engine.log).toEqual([]);
  });
});
