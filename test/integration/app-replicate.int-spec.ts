import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, Events } from '@mosaic/protocol';
import { staticSiteTemplate, startParams } from '../support/compose-templates';
import { tempRoot } from '../support/device-harness';
import { DeviceStack, startDeviceStack } from '../support/device-stack';
import { treeDigest } from '../support/storage-plugin';

jest.setTimeout(120_000);

/** The static site, with one more declared command: the running app writes a fresh random line into its app volume. */
function markingSiteTemplate(): string {
  const template = staticSiteTemplate();
  const marked = template.replace(
    'x-mosaic:\n  commands:\n',
    'x-mosaic:\n  commands:\n    mark:\n      service: web\n      argv: ["cp", "/proc/sys/kernel/random/uuid", "/data/marker.txt"]\n',
  );
  if (marked === template) throw new Error('the static site template changed: the mark command was not added');
  return marked;
}

/**
 * SchedulerAction.replicate (§2.8) through the Device's command path, as the Hive sends it, on a
 * real engine with the real storage plugin and restic: a snapshot of both volumes now, the app
 * left running. Device B (its own plugin over the same replica folder, on the same engine) stages
 * the instance as a move's prepare does, which shows what the replica now holds.
 */
describe('SchedulerAction.replicate: a snapshot of a running app, on a real engine with the real plugin', () => {
  const root = tempRoot('replicate');
  const replicas = join(root.path, 'replicas');
  const instances: string[] = [];
  let a: DeviceStack;
  let b: DeviceStack;

  beforeAll(async () => {
    mkdirSync(replicas, { recursive: true });
    a = await startDeviceStack(join(root.path, 'a'), { replicaUrl: replicas });
    b = await startDeviceStack(join(root.path, 'b'), { replicaUrl: replicas, engine: a.engine });
  });

  afterAll(async () => {
    for (const id of instances) await a?.probe.removeInstance(id).catch(() => undefined);
    await b?.close();
    await a?.close();
    root.remove();
  });

  const volumesOf = (instance: string) => [`mosaic-${instance}-app`, `mosaic-${instance}-link`];

  it('snapshots both volumes while the app keeps running, and the replica holds what the app wrote before', async () => {
    const instance = randomUUID();
    instances.push(instance);
    const [appVolume, linkVolume] = volumesOf(instance);
    const started = await a.device.command('SchedulerAction.start', startParams(instance, markingSiteTemplate()));
    expect(started.result).toMatchObject({ ok: true, result: { state: 'running', containers: [{ service: 'web', state: 'running' }] } });
    const containerId: string = started.result.result.containers[0].containerId;
    const startedAt = (await a.probe.docker.getContainer(containerId).inspect()).State.StartedAt;

    // The state a move starts from: a periodic snapshot of each volume (the plugin's own, not the command's).
    const before: Record<string, string> = {};
    for (const name of [appVolume, linkVolume]) {
      const periodic = await a.plugin.control.request('POST', `/volumes/${name}/replicate`);
      expect(periodic.status).toBe(200);
      before[name] = periodic.body.lastReplicatedAt;
    }
    // Written by the running app after that snapshot: only a new one holds it.
    expect((await a.device.command('AppCommand.run', { instance, command: 'mark' })).result).toMatchObject({ ok: true, result: { exitCode: 0 } });
    const shown = await a.device.command('AppCommand.run', { instance, command: 'show-file', args: { path: '/data/marker.txt' } });
    const marker: string = shown.result.result.stdout;
    expect(marker.trim()).toMatch(/^[0-9a-f-]{36}$/);

    // Snapshot times are whole seconds (restic's): a snapshot in the second of the periodic one
    // could not be told newer by its time. No event marks a second passing; the wait is under 1 s.
    const nextSecond = Math.max(...Object.values(before).map((at) => Date.parse(at))) + 1000;
    if (Date.now() < nextSecond) await new Promise((r) => setTimeout(r, nextSecond - Date.now()));

    const sentAt = Date.now();
    const { ack, result } = await a.device.command('SchedulerAction.replicate', { instance });
    expect(ack).toEqual({ id: expect.any(String), accepted: true });
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ ok: true, result: { instance } });
    expect(result.result.volumes.map((v: any) => v.name)).toEqual([appVolume, linkVolume]);
    const replicatedAt: Record<string, string> = Object.fromEntries(result.result.volumes.map((v: any) => [v.name, v.lastReplicatedAt]));
    for (const name of [appVolume, linkVolume]) {
      // Newer than the periodic snapshot, and begun no earlier than the command was sent (in restic's whole seconds).
      expect(Date.parse(replicatedAt[name])).toBeGreaterThan(Date.parse(before[name]));
      expect(Date.parse(replicatedAt[name])).toBeGreaterThanOrEqual(Math.floor(sentAt / 1000) * 1000);
      expect(Date.parse(replicatedAt[name])).toBeLessThanOrEqual(Date.now());
      // The plugin's record agrees, and A still writes the replica.
      expect(await a.plugin.control.volume(name)).toMatchObject({ lastReplicatedAt: replicatedAt[name], isWriter: true, replication: { state: 'idle' } });
    }

    // The app was not stopped for it: the same container, never restarted, still serving from its mounted volume.
    const containers = await a.probe.projectContainers(instance);
    expect(containers.map((c) => [c.Id, c.State])).toEqual([[containerId, 'running']]);
    expect((await a.probe.docker.getContainer(containerId).inspect()).State.StartedAt).toBe(startedAt);
    expect((await a.plugin.control.volume(appVolume)).mounts).toBeGreaterThanOrEqual(1);
    const page = await a.device.command('AppCommand.run', { instance, command: 'read-page' });
    expect(page.result.result).toMatchObject({ exitCode: 0, stdout: `hello from ${instance}\n` });

    // Device B stages the move as the Hive's prepare asks it: it restores the replica's current
    // snapshot, which is the one the command made, holding what the app wrote before it.
    for (const [id, keys] of a.device.hive.keys) b.device.hive.keys.set(id, keys);
    const prepared = await b.device.command('SchedulerAction.prepare', { instance });
    expect(prepared.result.error).toBeUndefined();
    const staged: any[] = prepared.result.result.staged;
    expect(staged.map((v) => v.name).sort()).toEqual([appVolume, linkVolume].sort());
    for (const v of staged) {
      expect(v).toMatchObject({ snapshot: expect.stringMatching(/^[0-9a-f]{64}$/), snapshotAt: replicatedAt[v.name] });
      expect(b.plugin.stagedSnapshot(v.name)).toBe(v.snapshot);
    }
    const stagedData = (name: string) => join(b.plugin.config.dataDir, 'staging', name, 'data');
    expect(readFileSync(join(stagedData(appVolume), 'marker.txt'), 'utf8')).toBe(marker);
    expect(readFileSync(join(stagedData(appVolume), 'index.html'), 'utf8')).toBe(`hello from ${instance}\n`);
    // Byte for byte the app volume as the app left it (it writes nothing after its start and the mark).
    const mountpoint: string = (await a.plugin.control.volume(appVolume)).mountpoint;
    expect(treeDigest(stagedData(appVolume))).toEqual(treeDigest(mountpoint));
    expect(treeDigest(stagedData(linkVolume))).toEqual(treeDigest((await a.plugin.control.volume(linkVolume)).mountpoint));
  });

  it('answers NOT_FOUND for an instance the device does not know, and touches nothing', async () => {
    const instance = randomUUID();
    const pluginVolumes = async () => (await a.plugin.control.request('GET', '/volumes')).body.map((v: any) => [v.name, v.lastReplicatedAt, v.replication.state]);
    const volumesBefore = await pluginVolumes();
    const from = a.device.hive.emitted.length;

    const { ack, result } = await a.device.command('SchedulerAction.replicate', { instance });
    expect(ack).toEqual({ id: expect.any(String), accepted: true });
    expect(result).toMatchObject({ ok: false, error: { code: ErrorCode.NOT_FOUND } });
    expect(result.error.message).toContain(instance);

    // Nothing was fetched, created or replicated for it, and nothing else was snapshotted.
    const emitted = a.device.hive.emitted.slice(from);
    expect(emitted.filter((e) => e.event === Events.keysGet || e.event === Events.keysPut)).toEqual([]);
    expect(await pluginVolumes()).toEqual(volumesBefore);
    expect(await a.probe.projectContainers(instance)).toEqual([]);
    for (const name of volumesOf(instance)) {
      await expect(a.probe.docker.getVolume(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect(existsSync(join(replicas, name))).toBe(false);
    }
    expect(existsSync(join(a.device.config.appsDir, instance))).toBe(false);
  });
});
