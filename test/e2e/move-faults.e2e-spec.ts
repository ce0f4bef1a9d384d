import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { Machine, MoveLab } from '../support/move-lab';

jest.setTimeout(300_000);

/** The moves' grace (HIVE_COMMAND_TIMEOUT_S): how long the Hive waits for a device that went away. */
const GRACE_S = 8;

/**
 * Staged moves (docs/protocol.md §2.7) when a device dies halfway, between two real devices (issue 13,
 * "Faults"): two engines, two plugins, two Device processes, one Hive with a short grace, one replica
 * store. B's plugin reaches the store through a proxy the test stalls, so that a stage is under way —
 * restic waiting on the store — for as long as the test needs to kill a Device: no race with the stage's
 * end. A Device is killed with SIGKILL (a crash: no shutdown); its plugin, a process of its own, lives on.
 */
describe('staged moves whose source or target dies, between two real devices', () => {
  const lab = new MoveLab('e2e-move-faults');
  let a: Machine;
  let b: Machine;
  let instance: string;

  const appVolume = () => `mosaic-${instance}-app`;
  const linkVolume = () => `mosaic-${instance}-link`;
  const stagingOf = (m: Machine) => readdirSync(join(m.plugin.config.dataDir, 'staging'));
  const stagedOn = (m: Machine) => [appVolume(), linkVolume()].map((name) => m.plugin.stagedSnapshot(name));
  const notes = async () => (await lab.run(instance, 'list-notes')).stdout;

  /**
   * Starts a move of the app from A to B (not awaited) and returns once B's stage is under way:
   * its plugin's restic asks the store, which the stalled proxy holds silent. A's first copy
   * (§2.8) goes on beside it (`firstCopyDone`).
   */
  async function moveWithStageHeld(force: boolean): Promise<string> {
    b.proxy!.stall();
    const moving = await lab.hive.api.post(`/api/apps/${instance}/move`, { to: b.id, force, wait: false });
    expect(moving.status).toBe(202);
    expect(moving.body.state).toBe('staging');
    await eventually('B staging, held at the store', async () => b.proxy!.held, (held) => held > 0);
    return moving.body.id;
  }

  /** A's first copy of the move, once it succeeded. */
  const firstCopyDone = async (id: string) => {
    const copy = (await lab.move(id)).precopyCommandId;
    return eventually(
      'A’s first copy',
      () => lab.hive.api.get(`/api/devices/${a.id}/commands/${copy}`).then((r) => r.body),
      (c) => c.status !== 'accepted' && c.status !== 'sent',
      60_000,
    );
  };

  const ended = (id: string) => eventually('the move to end', () => lab.move(id), (m) => m.finishedAt !== null, 120_000);

  beforeAll(async () => {
    await lab.start({ commandTimeoutS: GRACE_S });
    // The stall watchdog must not end a stage the test holds for a moment.
    [a, b] = await Promise.all([lab.machine('device-a'), lab.machine('device-b', { proxy: true, pluginEnv: { RESTIC_STALL_TIMEOUT_S: '120' } })]);
    instance = await lab.install(a);
    await lab.run(instance, 'add-note', { text: 'replicated on A' });
    await lab.replicateByRestart(instance);
    await lab.run(instance, 'add-note', { text: 'only on A, after the replica' });
  });

  afterAll(() => lab.close());

  it('target dies while staging: the move fails after the grace, A never stopped, and B drops the stage it finished when it comes back', async () => {
    const id = await moveWithStageHeld(false);
    await lab.killDevice(b);
    // B's plugin lives on: with the store back, it finishes the stage nobody will use.
    b.proxy!.resume();
    await eventually('the stage B’s plugin finished', async () => stagedOn(b), (staged) => staged.every((s) => s !== undefined), 120_000);
    expect(stagingOf(b).sort()).toEqual([appVolume(), linkVolume()].sort());

    const move = await ended(id);
    expect(move).toMatchObject({ state: 'failed', error: { code: 'DEVICE_OFFLINE', message: expect.stringMatching(/its stage/) }, stopCommandId: null, startCommandId: null });
    expect(move.downtimeMs).toBeNull();
    // The source never stopped: the app runs on A with everything it had.
    expect(await lab.appOn(instance)).toMatchObject({ deviceId: a.id, desired: 'running' });
    expect(await lab.containerStates(a, instance)).toEqual(['running']);
    const listed = await notes();
    expect(listed).toContain('replicated on A');
    expect(listed).toContain('only on A, after the replica');

    // B comes back: the prepare a restart cut off ends INTERNAL, and B drops what it staged.
    await lab.restartDevice(b);
    const prepare = await eventually(
      'B’s answer to the cut-off prepare',
      () => lab.hive.api.get(`/api/devices/${b.id}/commands/${move.prepareCommandId}`).then((r) => r.body),
      (c) => c.status !== 'accepted',
    );
    expect(prepare).toMatchObject({ status: 'failed', error: { code: 'INTERNAL', message: expect.stringMatching(/restarted/) } });
    await eventually('B’s stage dropped', async () => stagingOf(b), (left) => left.length === 0, 30_000);
    expect(stagedOn(b)).toEqual([undefined, undefined]);
    expect(b.device.count(/cleared up after SchedulerAction\.prepare/)).toBe(1);
  });

  it('source dies after B began staging: the move fails after the grace, B drops its stage, nothing is lost', async () => {
    const id = await moveWithStageHeld(false);
    await lab.killDevice(a);
    b.proxy!.resume();

    const move = await ended(id);
    expect(move).toMatchObject({ state: 'failed', error: { code: 'DEVICE_OFFLINE', message: expect.stringMatching(/its stop/) }, stopCommandId: null, startCommandId: null });
    const prepare = (await lab.hive.api.get(`/api/devices/${b.id}/commands/${move.prepareCommandId}`)).body;
    expect(prepare).toMatchObject({ status: 'succeeded', result: { staged: expect.arrayContaining([expect.objectContaining({ name: appVolume() })]) } });
    // The Hive asks B to drop the stage of a move that will not come.
    await eventually('B’s stage dropped', async () => stagingOf(b), (left) => left.length === 0);
    expect(stagedOn(b)).toEqual([undefined, undefined]);

    // The app never stopped on A: its containers ran on while its Device was away, and nothing is lost.
    expect(await lab.containerStates(a, instance)).toEqual(['running']);
    const restartedAt = Date.now();
    await lab.restartDevice(a);
    expect(await lab.appOn(instance)).toMatchObject({ deviceId: a.id, desired: 'running' });
    // Back beside a plugin that lived on, A reports the app's volumes again once it fetched their
    // keys at the handshake: what the loss window of a forced move reads. (Its reports from before
    // the kill are older than the restart.)
    await eventually(
      'A’s report of the app’s replicated volumes, from after its restart',
      () => lab.hive.api.get(`/api/devices/${a.id}/reports`).then((r) => r.body.volumes),
      (report) =>
        Date.parse(report?.at) > restartedAt && report.volumes.filter((v: any) => v.instance === instance && v.lastReplicatedAt !== null).length === 2,
      60_000,
    );
    const listed = await notes();
    expect(listed).toContain('replicated on A');
    expect(listed).toContain('only on A, after the replica');
  });

  it('a change A makes while B stages comes with its final replica: the move ends running on B with it', async () => {
    const id = await moveWithStageHeld(false);
    expect(await firstCopyDone(id)).toMatchObject({ type: 'SchedulerAction.replicate', status: 'succeeded' });
    // After A's first copy: only A's stop can carry this.
    await lab.run(instance, 'add-note', { text: 'written on A while B staged' });
    b.proxy!.resume();

    const move = await ended(id);
    expect(move).toMatchObject({ state: 'running', error: null, stopError: null, lossWindow: null });
    expect(await lab.appOn(instance)).toMatchObject({ deviceId: b.id, state: 'running' });
    const listed = await notes();
    expect(listed).toContain('only on A, after the replica');
    expect(listed).toContain('written on A while B staged');

    // Back to A, unstaged, for the next test.
    const back = await lab.hive.api.post(`/api/apps/${instance}/move`, { to: a.id, stage: false, timeoutSeconds: 180 });
    expect(back.body).toMatchObject({ state: 'running', error: null });
  });

  it('source dies after B began staging, with force: B starts from its stage and the move reports the loss window', async () => {
    const id = await moveWithStageHeld(true);
    expect(await firstCopyDone(id)).toMatchObject({ status: 'succeeded' });
    // After A's first copy: lost with A, as a forced move says.
    await lab.run(instance, 'add-note', { text: 'only on A, after its first copy' });
    await lab.killDevice(a);
    b.proxy!.resume();
    // The stage, finished: its data folder is what B's volume becomes when B starts from it.
    await eventually('B’s stage', async () => stagedOn(b), (staged) => staged.every((s) => s !== undefined), 120_000);
    const stagedData = statSync(join(b.plugin.config.dataDir, 'staging', appVolume(), 'data')).ino;

    const move = await ended(id);
    expect(move).toMatchObject({
      state: 'running',
      force: true,
      error: null,
      stopCommandId: null,
      stopError: { code: 'DEVICE_OFFLINE', message: expect.stringMatching(/its stop/) },
      lossWindow: { lastReplicatedAt: expect.any(String), ageSeconds: expect.any(Number) },
    });
    expect(move.downtimeMs).toBeGreaterThan(0);
    expect(move.downtimeMs).toBeLessThanOrEqual(move.totalMs);
    expect(statSync((await b.plugin.control.volume(appVolume())).mountpoint).ino).toBe(stagedData);
    expect(stagingOf(b)).toEqual([]);

    expect(await lab.appOn(instance)).toMatchObject({ deviceId: b.id, state: 'running' });
    const listed = await notes();
    expect(listed).toContain('replicated on A');
    expect(listed).toContain('only on A, after the replica'); // in A's first copy
    // Written on A after its last replica (the first copy), which its stop never made: the loss the window reports.
    expect(listed).not.toContain('only on A, after its first copy');
  });
});
