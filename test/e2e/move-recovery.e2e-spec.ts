import { eventually } from '../support/eventually';
import { Machine, MoveLab } from '../support/move-lab';

jest.setTimeout(240_000);

/**
 * What happens around a move when things go wrong (issue 14 items 3-4, docs/architecture.md
 * "Move / failover"): a device that comes back after its app was moved away without it, and a
 * move cancelled while the target restores. Two engines, two plugins, two Device processes, one
 * Hive, one replica store (a restic REST server), one small app (notes).
 */
describe('moves that meet a returning device or a cancel, between two real devices', () => {
  const lab = new MoveLab('e2e-move-recovery');
  let hive: MoveLab['hive'];
  let a: Machine;
  let b: Machine;

  const run = (instance: string, command: string, args?: Record<string, string>) => lab.run(instance, command, args);
  const appOn = (instance: string) => lab.appOn(instance);
  const authenticated = (m: Machine) => lab.authenticated(m);
  const containerStates = (m: Machine, instance: string) => lab.containerStates(m, instance);

  beforeAll(async () => {
    await lab.start();
    hive = lab.hive;
    [a, b] = await Promise.all([lab.machine('device-a'), lab.machine('device-b')]);
  });

  afterAll(() => lab.close());

  let instance: string;

  it("stops the copy a device still runs when it comes back after a forced move, and leaves the new owner's data alone", async () => {
    const installed = await hive.api.post(`/api/devices/${a.id}/apps`, { app: 'notes', timeoutSeconds: 120 });
    expect(installed.body.command).toMatchObject({ status: 'succeeded' });
    instance = installed.body.instance;
    await run(instance, 'add-note', { text: 'replicated on A' });
    // A stop replicates; the start after it brings the app back with that replica behind it.
    await lab.replicateByRestart(instance);
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
    await lab.restartDevice(a);
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
