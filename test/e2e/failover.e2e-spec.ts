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
import { TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(300_000);

/** One machine: its own engine, its own storage plugin (driver `mosaic`), and a Device process. */
interface Machine {
  id: string;
  engine: IsolatedEngine;
  plugin: RunningPlugin;
  device: DeviceProcess;
}

/**
 * Failover between two real devices (docs/protocol.md §2.1, docs/architecture.md "Move / failover"): two Docker engines,
 * two storage plugins, two Device processes, one Hive, one replica store (a restic REST server).
 * Device A reaches the store through a proxy the test can cut.
 */
describe('moving an app between two real devices', () => {
  const root = tempRoot('e2e-failover');
  const store = new RestServer(join(root.path, 'store'));
  let proxy: TcpProxy;
  let hive: TestHive;
  let a: Machine;
  let b: Machine;

  async function machine(name: string, replicaUrl: string): Promise<Machine> {
    const dir = join(root.path, name);
    const engine = await IsolatedEngine.start();
    // restic retries a store that refuses connections for up to 15 minutes; the plugin stops it sooner.
    const plugin = await startPlugin(pluginConfig(dir, { DOCKER_PLUGIN_DIR: engine.pluginDir, REPLICA_URL: replicaUrl, RESTIC_STALL_TIMEOUT_S: '20' }));
    const created = await hive.api.post('/api/devices', { name });
    const device = new DeviceProcess(machineDeviceSettings(hive, created.body.token, name, dir, engine, plugin));
    await device.waitForLine(/authenticated as device/);
    return { id: created.body.id, engine, plugin, device };
  }

  const run = async (instance: string, command: string, args?: Record<string, string>) => {
    const answer = await hive.api.post(`/api/apps/${instance}/commands`, { command, ...(args ? { args } : {}) });
    expect(answer.body.command).toMatchObject({ status: 'succeeded' });
    return answer.body.command.result as { exitCode: number; stdout: string };
  };

  async function install(on: Machine): Promise<string> {
    const installed = await hive.api.post(`/api/devices/${on.id}/apps`, { app: 'notes', timeoutSeconds: 120 });
    expect(installed.body.command).toMatchObject({ status: 'succeeded' });
    return installed.body.instance;
  }

  const appOn = (instance: string) => hive.api.get(`/api/apps/${instance}`).then((r) => r.body);

  beforeAll(async () => {
    mkdirSync(join(root.path, 'store'), { recursive: true });
    await store.start();
    proxy = new TcpProxy(store.port);
    await proxy.start();
    hive = await startE2eHive(join(root.path, 'hive.db'));
    a = await machine('device-a', `rest:http://127.0.0.1:${proxy.port}/`);
    b = await machine('device-b', store.url);
  });

  afterAll(async () => {
    for (const m of [a, b]) {
      await m?.device.stop();
      await m?.plugin.close();
      await m?.engine.stop();
    }
    await hive?.close();
    await proxy?.cut();
    await store.stop();
    root.remove();
  });

  it('moves an app with its data from A to B, after which A can no longer write the replica', async () => {
    const instance = await install(a);
    await run(instance, 'add-note', { text: 'written on A' });
    // A stop replicates: the move finds a replica with data, which B stages while A runs the app again.
    expect((await hive.api.post(`/api/apps/${instance}/stop`, { timeoutSeconds: 120 })).body.command).toMatchObject({ status: 'succeeded' });
    expect((await hive.api.post(`/api/apps/${instance}/start`, { timeoutSeconds: 120 })).body.command).toMatchObject({ status: 'succeeded' });
    await run(instance, 'add-note', { text: 'written on A after the replica' });

    const moved = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, timeoutSeconds: 240 });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ instance, from: a.id, to: b.id, state: 'running', error: null, lossWindow: null });
    // Downtime (A's acknowledged stop → B's start result) and total time are recorded.
    expect(moved.body.downtimeMs).toBeGreaterThan(0);
    expect(moved.body.downtimeMs).toBeLessThanOrEqual(moved.body.totalMs);
    // B staged both volumes from the replica (a snapshot with the first note) before A stopped.
    const prepared = (await hive.api.get(`/api/devices/${b.id}/commands/${moved.body.prepareCommandId}`)).body;
    expect(prepared).toMatchObject({ type: 'SchedulerAction.prepare', status: 'succeeded' });
    expect(prepared.result.staged.map((v: any) => v.name).sort()).toEqual([`mosaic-${instance}-app`, `mosaic-${instance}-link`]);
    expect(prepared.result.staged.every((v: any) => /^[0-9a-f]{64}$/.test(v.snapshot))).toBe(true);
    expect(Date.parse(prepared.finishedAt)).toBeLessThan(Date.parse((await hive.api.get(`/api/devices/${a.id}/commands/${moved.body.stopCommandId}`)).body.issuedAt));

    const app = await eventually('the app running on B', () => appOn(instance), (v) => v.deviceId === b.id && v.state === 'running');
    expect(app.containers.length).toBeGreaterThan(0);
    const notes = (await run(instance, 'list-notes')).stdout;
    expect(notes).toContain('written on A');
    // What changed after the staged snapshot came with the final replication.
    expect(notes).toContain('written on A after the replica');
    expect((await a.engine.docker('ps', '-q', '--filter', `label=com.docker.compose.project=mosaic-${instance}`)).trim()).toBe('');

    // A comes back with the app's old volumes: its replication is refused, and it says so.
    const stale = await hive.api.post(`/api/devices/${a.id}/commands`, { type: 'SchedulerAction.stop', params: { instance, replicate: true }, timeoutSeconds: 120 });
    expect(stale.body).toMatchObject({ status: 'failed', error: { code: 'NOT_WRITER' } });
    const reports = await eventually(
      "A's volume report",
      () => hive.api.get(`/api/devices/${a.id}/reports`).then((r) => r.body.volumes),
      (v) => v?.volumes?.some((x: any) => x.instance === instance && x.replication.state === 'error' && /NOT_WRITER/.test(x.replication.error)),
    );
    expect(reports.volumes.length).toBeGreaterThan(0);
  });

  it('refuses a move whose final replication fails, and a forced move reports what may be lost', async () => {
    const instance = await install(a);
    await run(instance, 'add-note', { text: 'replicated note' });
    // A stop replicates; the start after it brings the app back with a replica behind it.
    expect((await hive.api.post(`/api/apps/${instance}/stop`, { timeoutSeconds: 120 })).body.command).toMatchObject({ status: 'succeeded' });
    expect((await hive.api.post(`/api/apps/${instance}/start`, { timeoutSeconds: 120 })).body.command).toMatchObject({ status: 'succeeded' });
    const replicated = await eventually(
      "A's report of the replica",
      () => appOn(instance),
      (v) => v.volumes.length === 2 && v.volumes.every((x: any) => x.lastReplicatedAt !== null),
    );
    const lastReplicatedAt = replicated.volumes.map((x: any) => x.lastReplicatedAt).sort().pop();
    await run(instance, 'add-note', { text: 'note after the replica' });

    await proxy.cut();
    const refused = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, timeoutSeconds: 240 });
    expect(refused.body).toMatchObject({ state: 'failed', error: { code: 'REPLICATION_FAILED' } });
    expect((await appOn(instance)).deviceId).toBe(a.id);

    const forced = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, force: true, timeoutSeconds: 240 });
    expect(forced.body.error).toBeNull();
    expect(forced.body).toMatchObject({ state: 'running', lossWindow: { lastReplicatedAt: expect.any(String), ageSeconds: expect.any(Number) } });
    expect(Date.parse(forced.body.lossWindow.lastReplicatedAt)).toBeGreaterThanOrEqual(Date.parse(lastReplicatedAt) - 1000);
    expect(forced.body.lossWindow.ageSeconds).toBeGreaterThanOrEqual(0);
    const notes = (await run(instance, 'list-notes')).stdout;
    expect(notes).toContain('replicated note');
    expect(notes).not.toContain('note after the replica');
  });
});
