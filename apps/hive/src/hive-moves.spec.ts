import { CommandType, ErrorCode, Events } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MoveService } from './moves/move.service';
import { AppDevice } from './testing/app-device';
import { FakeDevice } from './testing/fake-device';
import { HiveApiClient } from './testing/hive-api-client';
import { armored, instanceKeys, randomVerifier } from './testing/fixtures';
import { commandReaches } from './testing/command-status';
import { TestHive, startTestHive } from './testing/test-hive';

interface Device {
  id: string;
  token: string;
  app: AppDevice;
}

/** How long a test waits for a move it cannot see end through its own requests. */
const MOVE_WAIT_MS = 5000;

describe('Hive moves (in-process Hive, two fake devices over socket.io)', () => {
  let hive: TestHive;
  let verifier: string;
  const open: FakeDevice[] = [];

  beforeAll(async () => {
    hive = await startTestHive();
    verifier = randomVerifier();
    expect((await hive.api.put('/api/account/passphrase', { verifier })).status).toBe(200);
  });

  afterEach(() => {
    for (const device of open.splice(0)) device.close();
  });

  afterAll(async () => {
    await hive.close();
  });

  async function reconnect(url: string, token: string): Promise<AppDevice> {
    const device = FakeDevice.withToken(url, token);
    open.push(device);
    expect(await device.prove(verifier)).toEqual({ ok: true });
    return new AppDevice(device);
  }

  async function newDevice(name: string, api: HiveApiClient = hive.api, url = hive.url): Promise<Device> {
    const { id, token } = (await api.post('/api/devices', { name })).body;
    return { id, token, app: await reconnect(url, token) };
  }

  /** Devices A and B, and the notes app installed on A, whose keys A put as a real device does when it starts an app. */
  async function appOnA(api: HiveApiClient = hive.api, url = hive.url) {
    const a = await newDevice('attic', api, url);
    const b = await newDevice('basement', api, url);
    const installed = await api.post(`/api/devices/${a.id}/apps`, { app: 'notes' });
    expect(installed.status).toBe(201);
    const { instance } = installed.body;
    const installParams = a.app.last().params;
    expect(await a.app.device.emitWithAck(Events.keysPut, { instance, keys: instanceKeys(instance) })).toEqual({ ok: true });
    return { a, b, instance, installParams };
  }

  function volume(instance: string, role: 'app' | 'link', lastReplicatedAt: string | null) {
    return {
      name: `mosaic-${instance}-${role}`,
      instance,
      role,
      fingerprint: (role === 'app' ? 'a' : 'c').repeat(40),
      publicKey: armored('PUBLIC', `${instance}-${role}`),
      lastReplicatedAt,
      replication: { state: 'idle' },
      sizeBytes: 4096,
    };
  }

  it('moves an app: A copies it while B stages it, A stops it with a final replica, B starts the very same params with failover: true', async () => {
    const { a, b, instance, installParams } = await appOnA();

    const moved = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id });
    expect(moved).toEqual({
      status: 200,
      body: {
        id: expect.any(String),
        instance,
        from: a.id,
        to: b.id,
        force: false,
        state: 'running',
        error: null,
        stopError: null,
        lossWindow: null,
        precopyCommandId: expect.any(String),
        prepareCommandId: expect.any(String),
        stageUpdateCommandId: null, // the stage held the copy (this fake device's copy has no time)
        stopCommandId: expect.any(String),
        startCommandId: expect.any(String),
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        finishedAt: expect.any(String),
        resolvedOn: null,
        resolution: null,
        stoppedAt: expect.any(String),
        downtimeMs: expect.any(Number),
        totalMs: expect.any(Number),
      },
    });
    const move = moved.body;
    expect(move.downtimeMs).toBeLessThanOrEqual(move.totalMs);

    // A's first copy, while the app still ran there (§2.8), then its stop.
    expect(a.app.received.slice(-2)).toEqual([
      { id: move.precopyCommandId, type: CommandType.SchedulerReplicate, issuedAt: expect.any(String), params: { instance } },
      { id: move.stopCommandId, type: CommandType.SchedulerStop, issuedAt: expect.any(String), params: { instance, replicate: true } },
    ]);
    expect(b.app.received).toEqual([
      // The start that will follow goes with the prepare, so B checks it ahead (§2.7).
      {
        id: move.prepareCommandId,
        type: CommandType.SchedulerPrepare,
        issuedAt: expect.any(String),
        params: { instance, start: { ...installParams, failover: true } },
      },
      {
        id: move.startCommandId,
        type: CommandType.SchedulerStart,
        issuedAt: expect.any(String),
        params: { ...installParams, failover: true },
      },
    ]);
    expect(installParams.failover).toBe(false);

    expect((await hive.api.get(`/api/apps/${instance}`)).body).toMatchObject({ instance, deviceId: b.id, desired: 'running' });
    expect((await hive.api.get(`/api/moves/${move.id}`)).body).toEqual(move);
    expect((await hive.api.get(`/api/apps/${instance}/moves`)).body).toEqual([move]);
    expect((await hive.api.get(`/api/devices/${a.id}/commands/${move.precopyCommandId}`)).body.status).toBe('succeeded');
    expect((await hive.api.get(`/api/devices/${b.id}/commands/${move.prepareCommandId}`)).body.status).toBe('succeeded');
    expect((await hive.api.get(`/api/devices/${a.id}/commands/${move.stopCommandId}`)).body.status).toBe('succeeded');
    expect((await hive.api.get(`/api/devices/${b.id}/commands/${move.startCommandId}`)).body.status).toBe('succeeded');
    // The move's own answers never show the link token either.
    expect(JSON.stringify(move)).not.toContain(installParams.links.default.token);

    // It is B's app now: a stop goes to B.
    expect((await hive.api.post(`/api/apps/${instance}/stop`, {})).status).toBe(200);
    expect(b.app.last()).toMatchObject({ type: CommandType.SchedulerStop, params: { instance } });
  });

  it('refuses the move when A answers REPLICATION_FAILED: the app stays on A, stopped, and B gets nothing', async () => {
    const { a, b, instance } = await appOnA();
    const failure = { code: ErrorCode.REPLICATION_FAILED, message: 'restic: repository unreachable' };
    a.app.next({ ok: false, error: failure });

    const refused = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, stage: false });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ state: 'failed', error: failure, stopError: null, lossWindow: null, startCommandId: null });
    expect(b.app.received).toEqual([]);
    expect((await hive.api.get(`/api/apps/${instance}`)).body).toMatchObject({ deviceId: a.id, desired: 'stopped' });
    // A failed move is over: the app can be started again where it is.
    expect((await hive.api.post(`/api/apps/${instance}/start`, {})).status).toBe(200);
  });

  it("with force, moves it anyway and reports the loss window from A's last report.volumes", async () => {
    const { a, b, instance, installParams } = await appOnA();
    const now = Date.now();
    const appReplica = new Date(now - 60 * 60_000).toISOString(); // an hour ago
    const linkReplica = new Date(now - 2 * 60 * 60_000).toISOString();
    const reportAt = new Date(now - 30_000).toISOString();
    const report = { at: reportAt, volumes: [volume(instance, 'app', appReplica), volume(instance, 'link', linkReplica)] };
    expect(await a.app.device.emitWithAck(Events.reportVolumes, report)).toEqual({ ok: true });
    const failure = { code: ErrorCode.REPLICATION_FAILED, message: 'restic: repository unreachable' };
    a.app.next({ ok: false, error: failure });

    const forced = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, force: true, stage: false });
    expect(forced.status).toBe(200);
    expect(forced.body).toMatchObject({
      force: true,
      state: 'running',
      error: null,
      stopError: failure,
      lossWindow: {
        lastReplicatedAt: appReplica,
        reportedAt: reportAt,
        volumes: [
          { name: `mosaic-${instance}-app`, role: 'app', lastReplicatedAt: appReplica },
          { name: `mosaic-${instance}-link`, role: 'link', lastReplicatedAt: linkReplica },
        ],
      },
    });
    const { ageSeconds } = forced.body.lossWindow;
    expect(ageSeconds).toBeGreaterThanOrEqual(3600);
    expect(ageSeconds).toBeLessThan(3600 + 60);
    expect(b.app.received.map((envelope) => envelope.params)).toEqual([{ ...installParams, failover: true }]);
    expect((await hive.api.get(`/api/apps/${instance}`)).body.deviceId).toBe(b.id);
  });

  it('stops the copy a device still runs when it comes back after a forced move: no replication, reason moved', async () => {
    const { a, b, instance } = await appOnA();
    a.app.device.close();
    const forced = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, force: true });
    expect(forced.body).toMatchObject({ state: 'running', stopError: { code: 'DEVICE_OFFLINE' } });

    const back = await reconnect(hive.url, a.token);
    const stopping = back.nextCommand(CommandType.SchedulerStop);
    const copy = { instance, application: { appstore: 'Mosaic Catalog', name: 'notes', version: '1.0.0' }, state: 'running', containers: [] };
    expect(await back.device.emitWithAck(Events.reportApps, { at: new Date().toISOString(), apps: [copy] })).toEqual({ ok: true });
    expect((await stopping).params).toEqual({ instance, replicate: false, reason: 'moved' });
    // The new owner's copy is its own: B's report of it stops nothing.
    expect(await b.app.device.emitWithAck(Events.reportApps, { at: new Date().toISOString(), apps: [copy] })).toEqual({ ok: true });
    expect(b.app.ofType(CommandType.SchedulerStop)).toEqual([]);
    expect((await hive.api.get(`/api/apps/${instance}`)).body.deviceId).toBe(b.id);
  });

  it('refuses a move to an offline device before anything stops', async () => {
    const a = await newDevice('attic');
    const { instance } = (await hive.api.post(`/api/devices/${a.id}/apps`, { app: 'notes' })).body;
    await a.app.device.emitWithAck(Events.keysPut, { instance, keys: instanceKeys(instance) });
    const offline = (await hive.api.post('/api/devices', { name: 'asleep' })).body;

    for (const force of [false, true]) {
      const refused = await hive.api.post(`/api/apps/${instance}/move`, { to: offline.id, force });
      expect(refused).toEqual({ status: 409, body: { code: 'DEVICE_OFFLINE', message: expect.stringContaining(offline.id) } });
    }
    expect(a.app.received.map((envelope) => envelope.type)).toEqual([CommandType.SchedulerStart]);
    expect((await hive.api.get(`/api/apps/${instance}/moves`)).body).toEqual([]);
    expect((await hive.api.get(`/api/apps/${instance}`)).body).toMatchObject({ deviceId: a.id, desired: 'running' });
  });

  it('answers 400, 404 and 409 with clear codes before anything stops', async () => {
    const { a, b, instance } = await appOnA();
    const sent = a.app.received.length;
    const cases: Array<[unknown, string, number, string]> = [
      [{ to: a.id }, instance, 400, 'SAME_DEVICE'],
      [{ to: randomUUID() }, instance, 404, 'NOT_FOUND'],
      [{ to: b.id }, randomUUID(), 404, 'NOT_FOUND'],
      [{ to: 'device-b' }, instance, 400, 'INVALID_PARAMS'],
      [{ to: b.id, force: 'yes', hurry: true }, instance, 400, 'INVALID_PARAMS'],
      [{}, instance, 400, 'INVALID_PARAMS'],
    ];
    for (const [body, target, status, code] of cases) {
      const response = await hive.api.post(`/api/apps/${target}/move`, body);
      expect([body, response.status, response.body.code]).toEqual([body, status, code]);
    }
    expect(a.app.received).toHaveLength(sent);
    expect((await hive.api.get(`/api/moves/${randomUUID()}`)).status).toBe(404);
    expect((await hive.api.get(`/api/apps/${randomUUID()}/moves`)).status).toBe(404);
    expect((await hive.api.as(null).post(`/api/apps/${instance}/move`, { to: b.id })).status).toBe(401);
  });

  it('cancels an unfinished move over REST: 200 cancelled with where the app is, then 409 MOVE_FINISHED; 400 for a body, 404 for an unknown move', async () => {
    const { a, b, instance } = await appOnA();
    a.app.next('no-result');
    const stopping = a.app.nextCommand(CommandType.SchedulerStop);
    const moving = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, wait: false, stage: false });
    await stopping;
    const path = `/api/moves/${moving.body.id}/cancel`;
    expect((await hive.api.post(path, { force: true })).body.code).toBe('INVALID_PARAMS');
    const cancelled = await hive.api.post(path, {});
    expect(cancelled).toMatchObject({
      status: 200,
      body: { id: moving.body.id, state: 'cancelled', resolvedOn: a.id, resolution: expect.stringContaining(a.id), totalMs: expect.any(Number) },
    });
    expect((await hive.api.get(`/api/apps/${instance}`)).body.deviceId).toBe(a.id);
    expect(await hive.api.post(path, {})).toMatchObject({ status: 409, body: { code: 'MOVE_FINISHED', details: { state: 'cancelled' } } });
    expect((await hive.api.post(`/api/moves/${randomUUID()}/cancel`, {})).status).toBe(404);
    expect((await hive.api.as(null).post(path, {})).status).toBe(401);
  });

  it('answers 202 while the move goes on, and keeps other moves, starts and stops away until it ends', async () => {
    const { a, b, instance } = await appOnA();
    a.app.next('no-result');
    const stopping = a.app.nextCommand(CommandType.SchedulerStop);
    const moving = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id, wait: false, stage: false });
    expect(moving.status).toBe(202);
    expect(moving.body).toMatchObject({ state: 'stopping', stopCommandId: expect.any(String), startCommandId: null });
    const stop = await stopping;

    const again = await hive.api.post(`/api/apps/${instance}/move`, { to: b.id });
    expect(again).toEqual({
      status: 409,
      body: { code: 'MOVE_IN_PROGRESS', message: expect.any(String), details: { moveId: moving.body.id, state: 'stopping' } },
    });
    for (const action of ['start', 'stop']) {
      expect((await hive.api.post(`/api/apps/${instance}/${action}`, {})).body.code).toBe('MOVE_IN_PROGRESS');
    }

    a.app.finish(stop, { ok: true, result: { instance, state: 'stopped', volumes: [] } });
    const ended = await hive.app.get(MoveService).whenFinished(moving.body.id, MOVE_WAIT_MS);
    expect(ended.state).toBe('running');
    expect((await hive.api.get(`/api/moves/${moving.body.id}`)).body).toEqual(ended);
  });

  describe('across a Hive restart', () => {
    let dir: string;
    const hives: TestHive[] = [];

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'mosaic-hive-moves-'));
    });

    afterEach(async () => {
      for (const device of open.splice(0)) device.close();
      for (const stopped of hives.splice(0)) await stopped.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('finishes a move the restart interrupted between the stop and the start', async () => {
      const dbPath = join(dir, 'hive.db');
      const before = await startTestHive({ dbPath });
      hives.push(before);
      expect((await before.api.put('/api/account/passphrase', { verifier })).status).toBe(200);
      const { a, b, instance, installParams } = await appOnA(before.api, before.url);

      // A accepts the stop and is still replicating when the Hive goes down.
      a.app.next('no-result');
      const stopping = a.app.nextCommand(CommandType.SchedulerStop);
      const moving = await before.api.post(`/api/apps/${instance}/move`, { to: b.id, wait: false, stage: false });
      expect(moving.status).toBe(202);
      const stop = await stopping;
      await commandReaches(before.app, a.id, stop.id, 'accepted');
      expect((await before.api.get(`/api/devices/${a.id}/commands/${stop.id}`)).body.status).toBe('accepted');
      for (const device of open.splice(0)) device.close();
      await hives.splice(0)[0].close();

      const after = await startTestHive({ dbPath });
      hives.push(after);
      expect((await after.api.get(`/api/moves/${moving.body.id}`)).body).toMatchObject({ state: 'stopping', stopCommandId: stop.id });

      const newB = await reconnect(after.url, b.token);
      const starting = newB.nextCommand(CommandType.SchedulerStart);
      const newA = await reconnect(after.url, a.token);
      // A's stop finished while the Hive was away: the result comes from its outbox.
      const resent = await newA.device.emitWithAck(Events.commandResult, {
        id: stop.id,
        type: CommandType.SchedulerStop,
        ok: true,
        result: { instance, state: 'stopped', volumes: [{ name: `mosaic-${instance}-app`, lastReplicatedAt: new Date().toISOString() }] },
        finishedAt: new Date().toISOString(),
      });
      expect(resent).toEqual({ ok: true });

      const start = await starting;
      expect(start.params).toEqual({ ...installParams, failover: true });
      const ended = await after.app.get(MoveService).whenFinished(moving.body.id, MOVE_WAIT_MS);
      expect(ended).toMatchObject({ state: 'running', stopCommandId: stop.id, startCommandId: start.id, error: null });
      expect(newA.received).toEqual([]); // the accepted stop was not sent again
      expect((await after.api.get(`/api/apps/${instance}`)).body).toMatchObject({ deviceId: b.id, desired: 'running' });
    });
  });
});
