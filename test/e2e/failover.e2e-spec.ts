import { Machine, MoveLab } from '../support/move-lab';
import { eventually } from '../support/eventually';

jest.setTimeout(300_000);

/**
 * Failover between two real devices (docs/protocol.md §2.1, docs/architecture.md "Move / failover"): two Docker engines,
 * two storage plugins, two Device processes, one Hive, one replica store (a restic REST server).
 * Device A reaches the store through a proxy the test can cut.
 */
describe('moving an app between two real devices', () => {
  const lab = new MoveLab('e2e-failover');
  let hive: MoveLab['hive'];
  let a: Machine;
  let b: Machine;

  // restic retries a store that refuses connections for up to 15 minutes; the plugin stops it sooner.
  const pluginEnv = { RESTIC_STALL_TIMEOUT_S: '20' };
  const run = (instance: string, command: string, args?: Record<string, string>) => lab.run(instance, command, args);
  const install = (on: Machine) => lab.install(on);
  const appOn = (instance: string) => lab.appOn(instance);

  beforeAll(async () => {
    await lab.start();
    hive = lab.hive;
    a = await lab.machine('device-a', { proxy: true, pluginEnv });
    b = await lab.machine('device-b', { pluginEnv });
  });

  afterAll(() => lab.close());

  it('moves an app with its data from A to B, after which A can no longer write the replica', async () => {
    const instance = await install(a);
    await run(instance, 'add-note', { text: 'written on A' });
    // A stop replicates: the move finds a replica with data, which B stages while A runs the app again.
    await lab.replicateByRestart(instance);
    await run(instance, 'add-note', { text: 'written on A after the replica' });

    const moved = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, timeoutSeconds: 240 });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ instance, from: a.id, to: b.id, state: 'running', error: null, lossWindow: null });
    // Downtime (A's acknowledged stop → B's start result) and total time are recorded.
    expect(moved.body.downtimeMs).toBeGreaterThan(0);
    expect(moved.body.downtimeMs).toBeLessThanOrEqual(moved.body.totalMs);
    // A copied both volumes while it still ran the app (§2.8), B staging beside it; the stage A's
    // stop followed (B's first, or its update) held that copy.
    const copied = (await hive.api.get(`/api/devices/${a.id}/commands/${moved.body.precopyCommandId}`)).body;
    expect(copied).toMatchObject({ type: 'SchedulerAction.replicate', status: 'succeeded' });
    const stageId = moved.body.stageUpdateCommandId ?? moved.body.prepareCommandId;
    const prepared = (await hive.api.get(`/api/devices/${b.id}/commands/${stageId}`)).body;
    expect(prepared).toMatchObject({ type: 'SchedulerAction.prepare', status: 'succeeded' });
    const copyTimes = Object.fromEntries(copied.result.volumes.map((v: any) => [v.name, v.lastReplicatedAt]));
    expect(prepared.result.staged.map((v: any) => v.name).sort()).toEqual([`mosaic-${instance}-app`, `mosaic-${instance}-link`]);
    expect(
      prepared.result.staged.every((v: any) => /^[0-9a-f]{64}$/.test(v.snapshot) && Date.parse(v.snapshotAt) >= Date.parse(copyTimes[v.name])),
    ).toBe(true);
    expect(Date.parse(prepared.finishedAt)).toBeLessThan(Date.parse((await hive.api.get(`/api/devices/${a.id}/commands/${moved.body.stopCommandId}`)).body.issuedAt));

    const app = await eventually('the app running on B', () => appOn(instance), (v) => v.deviceId === b.id && v.state === 'running');
    expect(app.containers.length).toBeGreaterThan(0);
    const notes = (await run(instance, 'list-notes')).stdout;
    expect(notes).toContain('written on A');
    // What changed after the periodic replica came with A's first copy.
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

  it("brings B's stage up to date with A's first copy when the copy ends after the stage", async () => {
    const instance = await install(a);
    await run(instance, 'add-note', { text: 'in the periodic replica' });
    await lab.replicateByRestart(instance);
    await run(instance, 'add-note', { text: 'only in the first copy' });
    // A's first copy is held at the store (A's proxy, stalled) until B has staged the older replica.
    a.proxy!.stall();
    const moving = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, wait: false });
    expect(moving.status).toBe(202);
    const stageOf = (id: string) => hive.api.get(`/api/devices/${b.id}/commands/${id}`).then((r) => r.body);
    const first = await eventually('B’s stage', () => stageOf(moving.body.prepareCommandId), (c) => c.status !== 'accepted' && c.status !== 'sent', 120_000);
    expect(first).toMatchObject({ status: 'succeeded' });
    expect((await lab.move(moving.body.id)).stopCommandId).toBeNull(); // A's stop waits for its copy
    a.proxy!.resume();

    const move = await eventually('the move to end', () => lab.move(moving.body.id), (m) => m.finishedAt !== null, 180_000);
    expect(move).toMatchObject({ state: 'running', error: null, stageUpdateCommandId: expect.any(String) });
    const copy = (await hive.api.get(`/api/devices/${a.id}/commands/${move.precopyCommandId}`)).body;
    expect(copy).toMatchObject({ type: 'SchedulerAction.replicate', status: 'succeeded' });
    const copyTimes = Object.fromEntries(copy.result.volumes.map((v: any) => [v.name, v.lastReplicatedAt]));
    // B's first stage was older than the copy; its update staged the copy.
    expect(first.result.staged.some((v: any) => Date.parse(v.snapshotAt) < Date.parse(copyTimes[v.name]))).toBe(true);
    const update = await stageOf(move.stageUpdateCommandId);
    expect(update).toMatchObject({ type: 'SchedulerAction.prepare', status: 'succeeded' });
    expect(update.result.staged.every((v: any) => Date.parse(v.snapshotAt) >= Date.parse(copyTimes[v.name]))).toBe(true);
    const notes = (await run(instance, 'list-notes')).stdout;
    expect(notes).toContain('in the periodic replica');
    expect(notes).toContain('only in the first copy');
  });

  it('refuses a move whose final replication fails, and a forced move reports what may be lost', async () => {
    const instance = await install(a);
    await run(instance, 'add-note', { text: 'replicated note' });
    // A stop replicates; the start after it brings the app back with a replica behind it.
    await lab.replicateByRestart(instance);
    const replicated = await eventually(
      "A's report of the replica",
      () => appOn(instance),
      (v) => v.volumes.length === 2 && v.volumes.every((x: any) => x.lastReplicatedAt !== null),
    );
    const lastReplicatedAt = replicated.volumes.map((x: any) => x.lastReplicatedAt).sort().pop();
    await run(instance, 'add-note', { text: 'note after the replica' });

    await a.proxy!.cut();
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
