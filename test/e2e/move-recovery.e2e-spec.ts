import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestHive } from '../../apps/hive/src/testing/test-hive';
import { machineDeviceSettings, startE2eHive } from '../support/e2e-hive';
import { eventually } from '../support/eventually';
import { DeviceProcess } from '../support/device-process';
import { tempRoot } from '../support/device-harness';
import { IsolatedEngine } from '../support/isolated-engine';
import { RestServer } from '../support/rest-server';
import { RunningPlugin, pluginConfig, startPlugin } from '../support/storage-plugin';

jest.setTimeout(240_000);

/** One machine: its own engine, its own storage plugin, and a Device process the test can stop and start again. */
interface Machine {
  id: string;
  engine: IsolatedEngine;
  plugin: RunningPlugin;
  env: Record<string, string>;
  device: DeviceProcess;
}

/**
 * What happens around a move when things go wrong (issue 14 items 3-4, docs/architecture.md
 * "Move / failover"): a device that comes back after its app was moved away without it, and a
 * move cancelled while the target restores. Two engines, two plugins, two Device processes, one
 * Hive, one replica store (a restic REST server), one small app (notes).
 */
describe('moves that meet a returning device or a cancel, between two real devices', () => {
  const root = tempRoot('e2e-move-recovery');
  const store = new RestServer(join(root.path, 'store'));
  let hive: TestHive;
  let a: Machine;
  let b: Machine;

  async function machine(name: string): Promise<Machine> {
    const dir = join(root.path, name);
    const engine = await IsolatedEngine.start();
    const plugin = await startPlugin(pluginConfig(dir, { DOCKER_PLUGIN_DIR: engine.pluginDir, REPLICA_URL: store.url }));
    const created = await hive.api.post('/api/devices', { name });
    const env = machineDeviceSettings(hive, created.body.token, name, dir, engine, plugin);
    const device = new DeviceProcess(env);
    await device.waitForLine(/authenticated as device/);
    return { id: created.body.id, engine, plugin, env, device };
  }

  const run = async (instance: string, command: string, args?: Record<string, string>) => {
    const answer = await hive.api.post(`/api/apps/${instance}/commands`, { command, ...(args ? { args } : {}) });
    expect(answer.body.command).toMatchObject({ status: 'succeeded' });
    return answer.body.command.result as { exitCode: number; stdout: string };
  };
  const appOn = (instance: string) => hive.api.get(`/api/apps/${instance}`).then((r) => r.body);
  const authenticated = (m: Machine) => hive.api.get(`/api/devices/${m.id}`).then((r) => r.body.authenticated as boolean);
  const containerStates = async (m: Machine, instance: string) =>
    (await m.engine.docker('ps', '-a', '--format', '{{.State}}', '--filter', `label=com.docker.compose.project=mosaic-${instance}`)).trim().split('\n');

  beforeAll(async () => {
    mkdirSync(join(root.path, 'store'), { recursive: true });
    await store.start();
    hive = await startE2eHive(join(root.path, 'hive.db'));
    [a, b] = await Promise.all([machine('device-a'), machine('device-b')]);
  });

  afterAll(async () => {
    for (const m of [a, b]) {
      await m?.device.stop();
      await m?.plugin.close();
      await m?.engine.stop();
    }
    await hive?.close();
    await store.stop();
    root.remove();
  });

  let instance: string;

  it("stops the copy a device still runs when it comes back after a forced move, and leaves the new owner's data alone", async () => {
    const installed = await hive.api.post(`/api/devices/${a.id}/apps`, { app: 'notes', timeoutSeconds: 120 });
    expect(installed.body.command).toMatchObject({ status: 'succeeded' });
    instance = installed.body.instance;
    await run(instance, 'add-note', { text: 'replicated on A' });
    // A stop replicates; the start after it brings the app back with that replica behind it.
    expect((await hive.api.post(`/api/apps/${instance}/stop`, { timeoutSeconds: 120 })).body.command).toMatchObject({ status: 'succeeded' });
    expect((await hive.api.post(`/api/apps/${instance}/start`, { timeoutSeconds: 120 })).body.command).toMatchObject({ status: 'succeeded' });
    await run(instance, 'add-note', { text: 'only on A' });

    // A's device goes away; the app's containers go on running on A's engine.
    await a.device.stop();
    await eventually('A offline for the Hive', () => authenticated(a), (on) => !on);
    expect(await containerStates(a, instance)).toEqual(['running']);

    const forced = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, force: true, timeoutSeconds: 180 });
    expect(forced.body).toMatchObject({ state: 'running', stopError: { code: 'DEVICE_OFFLINE' }, lossWindow: expect.any(Object) });
    // Downtime and total time are recorded: A was offline, so the app was down from the move's start.
    expect(forced.body.downtimeMs).toBeGreaterThan(0);
    expect(forced.body.downtimeMs).toBeLessThanOrEqual(forced.body.totalMs);
    await run(instance, 'add-note', { text: 'written on B' });

    // A comes back, still running its copy: the Hive tells it to stop that copy, without replicating, and why.
    a.device = new DeviceProcess(a.env);
    await a.device.waitForLine(/authenticated as device/);
    const reported = await eventually(
      "A's report of its stopped copy",
      () => hive.api.get(`/api/devices/${a.id}/reports`).then((r) => r.body.apps),
      (r) => r?.apps?.some((x: any) => x.instance === instance && x.state === 'stopped' && x.reason === 'moved'),
    );
    expect(reported.apps.find((x: any) => x.instance === instance)).toMatchObject({ state: 'stopped', reason: 'moved' });
    expect(await containerStates(a, instance)).toEqual(['exited']);

    const app = await appOn(instance);
    expect(app).toMatchObject({ deviceId: b.id, state: 'running' });
    const notes = (await run(instance, 'list-notes')).stdout;
    expect(notes).toContain('replicated on A');
    expect(notes).toContain('written on B');
    expect(notes).not.toContain('only on A');
  });

  it('cancels a move while the target restores: the app is left where its data is safe, the target that restored', async () => {
    const moving = await hive.api.post(`/api/apps/${instance}/move`, { to: a.id, wait: false });
    expect(moving.status).toBe(202);
    await eventually(
      'the move restoring on A',
      () => hive.api.get(`/api/moves/${moving.body.id}`).then((r) => r.body),
      (m) => m.state === 'restoring' || m.finishedAt !== null,
      120_000,
    );
    const cancelled = await hive.api.post(`/api/moves/${moving.body.id}/cancel`, {});
    expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled', resolvedOn: a.id, resolution: expect.any(String) } });
    expect(cancelled.body.totalMs).toBeGreaterThan(0);
    expect((await hive.api.post(`/api/moves/${moving.body.id}/cancel`, {})).body.code).toBe('MOVE_FINISHED');

    await eventually('the app running on A', () => appOn(instance), (v) => v.deviceId === a.id && v.state === 'running');
    expect((await run(instance, 'list-notes')).stdout).toContain('written on B');
  });
});
