import { Client } from 'pg';
import { TEST_ADMIN_TOKEN } from '../../apps/hive/src/testing/test-hive';
import { eventually } from '../support/eventually';
import { HiveCluster, startHiveCluster } from '../support/hive-cluster';
import { Machine, MoveLab } from '../support/move-lab';

jest.setTimeout(240_000);

/** The moves' leases (HIVE_LEASE_TTL_S): how long a dead process's move waits before the other one resumes it. */
const LEASE_TTL_S = 3;

/**
 * Issue 15: a Hive process killed (SIGKILL) in the middle of a staged move, with deploy/hive-cluster in
 * processes (PostgreSQL, two Hives, HAProxy) and two real machines (engine, storage plugin, Device)
 * connecting through HAProxy, one replica store. B's plugin reaches the store through a proxy the
 * test stalls, so B's prepare is under way for as long as the test needs: the process holding the
 * move's lease dies while the move waits on B, and the other process takes it over once the lease
 * expired — before B's stage can end, so the rest of the move runs there.
 */
describe('a Hive process killed mid-move, two real devices behind HAProxy', () => {
  const lab = new MoveLab('e2e-hive-cluster-move');
  let cluster: HiveCluster;
  let db: Client;
  let a: Machine;
  let b: Machine;

  beforeAll(async () => {
    cluster = await startHiveCluster({ env: { HIVE_LEASE_TTL_S: String(LEASE_TTL_S) } });
    db = new Client({ connectionString: cluster.databaseUrl, connectionTimeoutMillis: 10_000 });
    await db.connect();
    await lab.startWith({ url: cluster.haproxy.url, api: cluster.api });
    // The stall watchdog must not end the stage the test holds.
    [a, b] = await Promise.all([lab.machine('device-a'), lab.machine('device-b', { proxy: true, pluginEnv: { RESTIC_STALL_TIMEOUT_S: '120' } })]);
    // A device is authenticated on the process holding its socket; the other one hears of it over the
    // bus a moment later. HAProxy may send the next request to either: wait until both know both
    // devices (a clean-clone CI run's install went to the one that did not yet, and got no command).
    for (const hive of cluster.hives) {
      for (const m of [a, b]) {
        await eventually(`${m.name} authenticated on every process`, () => hive.api.get(`/api/devices/${m.id}`), (r) => r.status === 200 && r.body.authenticated === true, 30_000);
      }
    }
  }, 240_000);

  afterAll(async () => {
    await db?.end();
    await lab.close();
    await cluster?.stop();
  }, 120_000);

  /** The lease row of the move: its owner (a process's random id) and whether it is live by the database clock. */
  async function lease(id: string): Promise<{ owner: string; live: boolean } | undefined> {
    const { rows } = await db.query(
      `SELECT owner, expires_ms > (extract(epoch FROM clock_timestamp()) * 1000) AS live FROM leases WHERE name = $1`,
      [`move:${id}`],
    );
    return rows[0];
  }

  it('the other process resumes the move after the lease TTL: it ends running on B with A’s last data, each command run once', async () => {
    const instance = await lab.install(a);
    await lab.run(instance, 'add-note', { text: 'replicated on A' });
    await lab.replicateByRestart(instance);
    await lab.run(instance, 'add-note', { text: 'marker: only on A, before the move' });

    b.proxy!.stall();
    const response = await fetch(`${cluster.api.url}/api/apps/${instance}/move`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: b.id, wait: false }),
    });
    const started = (await response.json()) as { id: string; state: string; precopyCommandId: string };
    expect(response.status).toBe(202);
    expect(started.state).toBe('staging');
    const id = started.id;
    // A's first copy comes first (§2.8), then B's stage.
    await eventually('B staging, held at the store', async () => b.proxy!.held, (held) => held > 0);
    const staging = await lab.move(id);
    expect(staging).toMatchObject({ state: 'staging', precopyCommandId: started.precopyCommandId, prepareCommandId: expect.any(String) });
    expect(b.device.count(new RegExp(`accepted SchedulerAction\\.prepare ${staging.prepareCommandId}`))).toBe(1);

    // The process that served the POST (HAProxy names it) began the move and holds its lease.
    const servedBy = response.headers.get('x-served-by');
    const holder = cluster.hives[servedBy === 'hive1' ? 0 : servedBy === 'hive2' ? 1 : -1];
    expect(holder).toBeDefined();
    const survivor = cluster.hives.find((hive) => hive !== holder)!;
    expect(holder.output.count(new RegExp(`moving app ${instance} from device ${a.id} to ${b.id}: move ${id}`))).toBe(1);
    // …and runs its steps: it sent B's prepare.
    await eventually(
      'the holder’s log of B’s prepare',
      async () => holder.output.count(new RegExp(`move ${id}: SchedulerAction\\.prepare ${staging.prepareCommandId} accepted by device ${b.id}`)),
      (n) => n === 1,
    );
    const before = await lease(id);
    expect(before).toMatchObject({ live: true });

    await holder.kill();

    // The survivor takes the lease once it expired (its sweep), while B's stage is still held.
    const after = await eventually('the survivor holding the move’s lease', () => lease(id), (l) => l !== undefined && l.owner !== before!.owner && l.live, 30_000);
    expect(after).toBeDefined();
    expect(b.proxy!.held).toBeGreaterThan(0);
    // The devices whose socket was on the killed process come back through HAProxy, to the survivor.
    const onHolder = [a, b].filter((m) => holder.output.count(new RegExp(`device ${m.id} authenticated`)) > 0);
    for (const m of onHolder)
      await eventually(`${m.name} authenticated again`, async () => m.device.count(/authenticated as device/), (n) => n >= 2, 60_000);
    b.proxy!.resume();

    const move = await eventually('the move to end', () => lab.move(id), (m) => m.finishedAt !== null, 120_000);
    expect(move).toMatchObject({ state: 'running', error: null, stopError: null, from: a.id, to: b.id });
    expect(await lab.appOn(instance)).toMatchObject({ deviceId: b.id, state: 'running' });
    expect((await lab.run(instance, 'list-notes')).stdout).toContain('marker: only on A, before the move');
    expect(await lab.containerStates(a, instance)).toEqual(['exited']);
    expect(await lab.containerStates(b, instance)).toEqual(['running']);

    // The rest of the move ran on the survivor, and no device ran one of its commands twice.
    expect(survivor.output.count(new RegExp(`move ${id}: SchedulerAction\\.stop ${move.stopCommandId} accepted by device ${a.id}`))).toBe(1);
    expect(survivor.output.count(new RegExp(`move ${id} of app ${instance}: staging → stopping`))).toBe(1);
    expect(holder.output.count(new RegExp(`move ${id} of app ${instance}: staging →`))).toBe(0);
    const ranOnce = (m: Machine, type: string, commandId: string) => {
      expect(m.device.count(new RegExp(`accepted SchedulerAction\\.${type} ${commandId}`))).toBe(1);
      expect(m.device.count(new RegExp(`SchedulerAction\\.${type} ${commandId} succeeded`))).toBe(1);
    };
    ranOnce(a, 'replicate', move.precopyCommandId);
    ranOnce(b, 'prepare', move.prepareCommandId);
    ranOnce(a, 'stop', move.stopCommandId);
    ranOnce(b, 'start', move.startCommandId);
    // A: the replica's stop and the move's (and a stray-copy stop, should a report of A's running
    // copy from before its stop come in after the move: the Hive logs those); B: the prepare and the start.
    const strayStops = cluster.hives.reduce((n, hive) => n + hive.output.count(new RegExp(`device ${a.id} runs a copy of app ${instance}`)), 0);
    const stopsOnA = a.device.count(/accepted SchedulerAction\.stop /);
    expect(stopsOnA).toBeGreaterThanOrEqual(2);
    expect(stopsOnA).toBeLessThanOrEqual(2 + strayStops);
    expect(b.device.count(/accepted SchedulerAction\.(start|stop|prepare) /)).toBe(2);
  });
});
