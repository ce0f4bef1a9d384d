import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, Events } from '@mosaic/protocol';
import { AppLifecycleService } from '../../apps/device/src/apps/app-lifecycle.service';
import { KeystoreService } from '../../apps/device/src/keystore/keystore.service';
import { Clock } from '../../apps/storage-plugin/src/common/clock';
import { FilesAdapter } from '../../apps/storage-plugin/src/common/files.adapter';
import { KeyRegistry } from '../../apps/storage-plugin/src/keys/key-registry.service';
import { OpenPgpKeyAdapter } from '../../apps/storage-plugin/src/keys/openpgp-key.adapter';
import { PluginMetrics } from '../../apps/storage-plugin/src/metrics/plugin-metrics';
import { ReplicationService } from '../../apps/storage-plugin/src/replication/replication.service';
import { ResticAdapter } from '../../apps/storage-plugin/src/replication/restic.adapter';
import { KeyStoreAdapter } from '../../apps/storage-plugin/src/replication/key-store.adapter';
import { ReplicaKeysService } from '../../apps/storage-plugin/src/replication/replica-keys.service';
import { SnapshotFilesService } from '../../apps/storage-plugin/src/replication/snapshot-files.service';
import { SnapshotIdsAdapter } from '../../apps/storage-plugin/src/replication/snapshot-ids.adapter';
import { staticSiteTemplate, startParams } from '../support/compose-templates';
import { tempRoot } from '../support/device-harness';
import { DeviceStack, startDeviceStack } from '../support/device-stack';
import { pluginConfig } from '../support/storage-plugin';

jest.setTimeout(120_000);

/**
 * A device whose app moved while it was away (docs/protocol.md §2.1, §2.4): another device claimed
 * the replicas, so this one's copy must not run again. The other device is a second plugin's
 * ReplicationService over the same replica folder, claiming as a failover does.
 */
describe('an app that moved away: NOT_WRITER before anything runs, on a real engine with the real plugin', () => {
  const root = tempRoot('moved-away');
  const instances: string[] = [];
  let stack: DeviceStack;

  beforeAll(async () => {
    Logger.overrideLogger(['error']); // the refusals this test provokes are logged as warnings
    stack = await startDeviceStack(root.path);
  });

  afterAll(async () => {
    for (const id of instances) await stack?.probe.removeInstance(id).catch(() => undefined);
    await stack?.close();
    root.remove();
    Logger.overrideLogger(true);
  });

  /** An app started and stopped (with its final replica) on the stack's device, then claimed by another device. */
  async function movedAway(): Promise<string> {
    const instance = randomUUID();
    instances.push(instance);
    const { device } = stack;
    expect((await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()))).result.ok).toBe(true);
    expect((await device.command('SchedulerAction.stop', { instance })).result.ok).toBe(true);
    await claimAsAnotherDevice(instance);
    return instance;
  }

  /** Another device's failover of both volumes: its claim fences this one. */
  async function claimAsAnotherDevice(instance: string): Promise<void> {
    const keys = stack.device.module.get(KeystoreService).cached(instance)!;
    const config = pluginConfig(join(root.path, `other-${instance}`), { REPLICA_URL: stack.plugin.config.replicaUrl });
    const registry = new KeyRegistry(new OpenPgpKeyAdapter());
    const ids = new SnapshotIdsAdapter(config);
    const replicaKeys = new ReplicaKeysService(new KeyStoreAdapter(config), new ResticAdapter(config), new Clock());
    const other = new ReplicationService(config, new ResticAdapter(config), registry, new FilesAdapter(), new Clock(), new PluginMetrics(), ids, replicaKeys, new SnapshotFilesService(ids, replicaKeys));
    const writer = randomUUID();
    for (const key of [keys.app, keys.link]) {
      await registry.register(key.fingerprint, key.privateKey.reveal());
      const name = `mosaic-${instance}-${key.role}`;
      const claimed = await other.prepare({ name, fingerprint: key.fingerprint, writer }, join(config.dataDir, name, 'data'), { failover: true });
      expect(claimed).toMatchObject({ isWriter: true, replicaWriter: writer });
    }
  }

  const states = async (instance: string) => (await stack.probe.projectContainers(instance)).map((c) => c.State);

  it('refuses a start with NOT_WRITER, naming the new writer, and runs nothing', async () => {
    const instance = await movedAway();
    const { result } = await stack.device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ code: ErrorCode.NOT_WRITER, details: { volume: `mosaic-${instance}-app`, writer: expect.any(String) } });
    expect(await states(instance)).toEqual(['exited']);
    // A failover start takes the replica back: that one runs.
    const failover = await stack.device.command('SchedulerAction.start', { ...startParams(instance, staticSiteTemplate()), failover: true });
    expect(failover.result).toMatchObject({ ok: true, result: { state: 'running' } });
  });

  it('does not bring the copy back at boot, and a stop saying why is reported', async () => {
    const instance = randomUUID();
    instances.push(instance);
    const { device } = stack;
    expect((await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()))).result.ok).toBe(true);
    expect((await device.command('SchedulerAction.stop', { instance })).result.ok).toBe(true);
    expect((await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()))).result.ok).toBe(true);
    // The machine went down with the app running (its desired state stays running); meanwhile the app moved.
    for (const c of await stack.probe.projectContainers(instance)) await stack.probe.docker.getContainer(c.Id).stop();
    await claimAsAnotherDevice(instance);

    expect(await device.module.get(AppLifecycleService).reconcile()).not.toContain(instance);
    expect(await states(instance)).toEqual(['exited']);

    const from = device.hive.emitted.length;
    const stopped = await device.command('SchedulerAction.stop', { instance, replicate: false, reason: 'moved' });
    expect(stopped.result).toMatchObject({ ok: true, result: { state: 'stopped' } });
    const report = await device.hive.next((e) => e.event === Events.reportApps && e.payload.apps.some((a: any) => a.instance === instance && a.reason), from);
    expect(report.payload.apps.find((a: any) => a.instance === instance)).toMatchObject({ state: 'stopped', reason: 'moved' });
  });
});
