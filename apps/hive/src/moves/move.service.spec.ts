import { Logger } from '@nestjs/common';
import { CommandEnvelope, CommandType, ErrorCode, Events } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { AccountRepository } from '../accounts/account.repository';
import { AccountService } from '../accounts/account.service';
import { AppRecord, AppRepository } from '../apps/app.repository';
import { startParams } from '../apps/apps.service';
import { CommandCompletions } from '../commands/command-completions';
import { CommandRepository } from '../commands/command.repository';
import { HiveMetrics } from '../metrics/hive-metrics';
import { CommandsService } from '../commands/commands.service';
import { ChangeFeed } from '../changes/change-feed';
import { Clock } from '../common/clock';
import { HiveConfig } from '../config/hive-config';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { DeviceRepository } from '../devices/device.repository';
import { DevicesService } from '../devices/devices.service';
import { KeyRepository } from '../keys/key.repository';
import { KeysService } from '../keys/keys.service';
import { LeaseKeeper } from '../leases/lease-keeper';
import { LeaseRepository } from '../leases/lease.repository';
import { ReportRepository } from '../reports/report.repository';
import { ReportsService } from '../reports/reports.service';
import { DeviceConnection } from '../sessions/device-connection';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { armored, instanceKeys } from '../testing/fixtures';
import { MoveRepository } from './move.repository';
import { MoveRequest, MoveService, MoveView, REISSUE_EXPIRED_AFTER_MS, moveLease } from './move.service';
import { eventually } from '../../../../test/support/eventually';

const COMMAND_TIMEOUT_S = 30;
const GRACE_MS = COMMAND_TIMEOUT_S * 1000;
const CONFIG: HiveConfig = {
  adminToken: 'x'.repeat(16),
  port: 0,
  host: '127.0.0.1',
  dbPath: ':memory:',
  commandTimeoutS: COMMAND_TIMEOUT_S,
  catalogDir: '/nonexistent/catalog',
  deviceVersion: '1.0.0',
  logLevel: 'log',
  logFormat: 'text',
  devtools: false,
  publicUrl: null,
  consoleDir: '/nonexistent/console',
};
// The Hive's real clock stamps commands' issuedAt; the fake one starts there and only moves forward.
const T0 = Date.now();

class FakeClock extends Clock {
  ms = T0;
  override now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

type Ack = (envelope: CommandEnvelope) => Promise<unknown>;
const accept: Ack = (envelope) => Promise.resolve({ id: envelope.id, accepted: true });
const refuse =
  (code: string): Ack =>
  (envelope) =>
    Promise.resolve({ id: envelope.id, accepted: false, error: { code, message: `refused: ${code}` } });
/** The Hive stops while it waits for this acknowledgement: it never comes. */
const never: Ack = () => new Promise(() => undefined);
const noAck: Ack = () => Promise.reject(new Error('operation has timed out'));

/** One authenticated device connection: it records every envelope and acknowledges as scripted (accept by default). */
class ScriptedDevice implements DeviceConnection {
  readonly connectionId = randomUUID();
  readonly received: CommandEnvelope[] = [];
  private readonly acks: Ack[] = [];
  private readonly waiting: Array<(envelope: CommandEnvelope) => void> = [];
  constructor(readonly deviceId: string) {}

  /** Resolves with the next envelope this device receives. */
  nextCommand(): Promise<CommandEnvelope> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  nextAck(...acks: Ack[]): this {
    this.acks.push(...acks);
    return this;
  }
  emitWithAck(event: string, payload: unknown): Promise<unknown> {
    if (event !== Events.command) throw new Error(`the move service sent ${event}`);
    const envelope = payload as CommandEnvelope;
    this.received.push(envelope);
    for (const resolve of this.waiting.splice(0)) resolve(envelope);
    return (this.acks.shift() ?? accept)(envelope);
  }
  disconnect(): void {
    throw new Error('the move service never disconnects devices');
  }
  ofType(type: string): CommandEnvelope[] {
    return this.received.filter((envelope) => envelope.type === type);
  }
}

/** Everything one Hive process holds in memory; a restart is a new one on the same database. */
async function hiveProcess(db: HiveDatabase, clock: FakeClock) {
  const sessions = new DeviceSessionRegistry();
  const devices = new DevicesService(new DeviceRepository(db), sessions, new ReportsService(new ReportRepository(db)));
  const commands = new CommandsService(CONFIG, new CommandRepository(db), new CommandCompletions(), devices, sessions, new HiveMetrics());
  const accounts = new AccountService(new AccountRepository(db), db, sessions);
  await accounts.onModuleInit();
  const keys = new KeysService(new KeyRepository(db), accounts, db);
  const reports = new ReportsService(new ReportRepository(db));
  const apps = new AppRepository(db);
  const metrics = new HiveMetrics();
  const leases = new LeaseKeeper(new LeaseRepository(db));
  const moves = new MoveService(CONFIG, new MoveRepository(db), apps, commands, devices, sessions, reports, keys, clock, leases, new ChangeFeed(), metrics);
  return { sessions, devices, commands, keys, reports, apps, moves, metrics, leases };
}
type HiveProcess = Awaited<ReturnType<typeof hiveProcess>>;

describe('MoveService', () => {
  let db: HiveDatabase;
  let clock: FakeClock;
  let hive: HiveProcess;
  let a: string;
  let b: string;
  let app: AppRecord;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new FakeClock();
    hive = await hiveProcess(db, clock);
    a = (await hive.devices.create('attic')).id;
    b = (await hive.devices.create('basement')).id;
    const instance = randomUUID();
    app = {
      instance,
      deviceId: a,
      application: { appstore: 'Mosaic Catalog', name: 'notes', version: '1.0.0' },
      compose: 'services:\n  web:\n    image: mosaic-test/busybox\n',
      variables: { NOTES_TITLE: 'Ours' },
      secretVariables: [],
      links: { default: { domain: `notes-${instance.slice(0, 8)}.mosaic.test`, token: 't'.repeat(43) } },
      desired: 'running',
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
    };
    await hive.apps.insert(app);
    await hive.keys.put(instance, instanceKeys('moved') as never, a);
  });

  afterEach(async () => {
    await hive.moves.onModuleDestroy();
    await hive.leases.close();
    await db.close();
  });

  function connect(deviceId: string, on: HiveProcess = hive): ScriptedDevice {
    const device = new ScriptedDevice(deviceId);
    on.sessions.add(device);
    on.sessions.authenticate(device);
    return device;
  }

  function disconnect(device: ScriptedDevice, on: HiveProcess = hive): void {
    on.sessions.remove(device);
  }

  /** The device's command.result, as the gateway hands it over. */
  async function answer(
    deviceId: string,
    envelope: CommandEnvelope,
    outcome: { ok: true } | { ok: false; code: string },
    on: HiveProcess = hive,
  ): Promise<void> {
    const instance = (envelope.params as { instance: string }).instance;
    const result =
      envelope.type === CommandType.SchedulerStop
        ? { instance, state: 'stopped', volumes: [{ name: `mosaic-${instance}-app`, lastReplicatedAt: clock.now().toISOString() }] }
        : envelope.type === CommandType.SchedulerPrepare
          ? { instance, staged: [{ name: `mosaic-${instance}-app`, snapshot: 'a'.repeat(64), snapshotAt: clock.now().toISOString(), bytes: 1024 }] }
          : envelope.type === CommandType.SchedulerReplicate
            ? { instance, volumes: [{ name: `mosaic-${instance}-app`, lastReplicatedAt: clock.now().toISOString() }] }
            : { instance, state: 'running', containers: [{ service: 'web', containerId: 'c0ffee', state: 'running' }] };
    const body = outcome.ok ? { ok: true, result } : { ok: false, error: { code: outcome.code, message: `it failed: ${outcome.code}` } };
    expect(
      await on.commands.recordResult(deviceId, { id: envelope.id, type: envelope.type, finishedAt: clock.now().toISOString(), ...body } as never),
    ).toBe('recorded');
  }

  /** Starts a move without waiting, and lets the machine go as far as it can. */
  async function begin(request: Partial<MoveRequest> = {}, on: HiveProcess = hive): Promise<MoveView> {
    // Unstaged unless a test asks: most of these are about the stop and the start (staging has its own tests).
    const { move } = await on.moves.move(app.instance, { to: b, wait: false, stage: false, ...request });
    await on.moves.idle();
    return await on.moves.get(move.id);
  }

  const stored = (id: string, on: HiveProcess = hive) => on.moves.get(id);

  /** A stopped with its final replica while B went away: the move waits in `replicated`. */
  async function stoppedWhileBIsAway(): Promise<{ deviceA: ScriptedDevice; deviceB: ScriptedDevice; move: MoveView }> {
    const deviceA = connect(a);
    const deviceB = connect(b);
    const move = await begin();
    disconnect(deviceB);
    await answer(a, deviceA.received[0], { ok: true });
    await hive.moves.idle();
    expect((await stored(move.id)).state).toBe('replicated');
    return { deviceA, deviceB, move };
  }
  const appNow = async (on: HiveProcess = hive) => (await on.apps.find(app.instance))!;

  /** A's latest report.volumes: its app volume replicated at `appAt`, its link volume at `linkAt`. */
  async function reportVolumes(appAt: string | null, linkAt: string | null): Promise<void> {
    const volume = (role: 'app' | 'link', lastReplicatedAt: string | null) => ({
      name: `mosaic-${app.instance}-${role}`,
      instance: app.instance,
      role,
      fingerprint: (role === 'app' ? 'a' : 'c').repeat(40),
      publicKey: armored('PUBLIC', role),
      lastReplicatedAt,
      replication: { state: 'idle' },
      sizeBytes: 1024,
    });
    const other = { ...volume('app', new Date(T0).toISOString()), instance: randomUUID(), name: 'mosaic-other-app' };
    await hive.reports.store(a, 'volumes', {
      at: new Date(clock.ms).toISOString(),
      volumes: [volume('app', appAt), volume('link', linkAt), other],
    } as never);
  }

  describe('refusals before anything stops', () => {
    it.each([
      ['an unknown app', () => ({ instance: randomUUID(), to: b }), 'NOT_FOUND'],
      ['an unknown target device', () => ({ instance: app.instance, to: randomUUID() }), 'NOT_FOUND'],
      ['the device the app is on', () => ({ instance: app.instance, to: a }), 'SAME_DEVICE'],
    ])('refuses %s', async (_label, request, code) => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const { instance, to } = request();
      await expect(hive.moves.move(instance, { to, wait: false })).rejects.toMatchObject({ code });
      expect([deviceA.received, deviceB.received]).toEqual([[], []]);
      expect(await hive.moves.listForApp(app.instance)).toEqual([]);
    });

    it('refuses an offline target, forced or not', async () => {
      const deviceA = connect(a);
      for (const force of [false, true]) {
        await expect(hive.moves.move(app.instance, { to: b, force, wait: false })).rejects.toMatchObject({
          code: 'DEVICE_OFFLINE',
          message: expect.stringContaining(b),
        });
      }
      expect(deviceA.received).toEqual([]);
      expect(await hive.moves.listForApp(app.instance)).toEqual([]);
    });

    it('refuses an offline source unless forced', async () => {
      connect(b);
      await expect(hive.moves.move(app.instance, { to: b, wait: false })).rejects.toMatchObject({
        code: 'DEVICE_OFFLINE',
        message: expect.stringContaining('force: true'),
      });
      expect(await hive.moves.listForApp(app.instance)).toEqual([]);
    });

    it('refuses an app without device unless forced', async () => {
      connect(b);
      await hive.devices.revoke(a);
      await expect(hive.moves.move(app.instance, { to: b, wait: false })).rejects.toMatchObject({ code: 'APP_UNASSIGNED' });
    });

    it('refuses an app whose keys the Hive does not have: the target could not restore it', async () => {
      const deviceA = connect(a);
      connect(b);
      const { instance } = app;
      await hive.apps.insert({ ...app, instance: randomUUID() });
      const keyless = (await hive.apps.list(a)).find((record) => record.instance !== instance)!;
      await expect(hive.moves.move(keyless.instance, { to: b, wait: false })).rejects.toMatchObject({ code: 'KEYS_MISSING' });
      expect(deviceA.received).toEqual([]);
    });

    it('refuses a second move while one is unfinished, and keeps starts and stops away from the app', async () => {
      const deviceA = connect(a).nextAck(accept);
      connect(b);
      const first = await begin();
      expect(first.state).toBe('stopping');
      await expect(hive.moves.move(app.instance, { to: b, wait: false })).rejects.toMatchObject({
        code: 'MOVE_IN_PROGRESS',
        details: { moveId: first.id, state: 'stopping' },
      });
      await expect(hive.moves.assertNotMoving(app.instance)).rejects.toEqual(expect.objectContaining({ code: 'MOVE_IN_PROGRESS' }));
      expect(deviceA.received).toHaveLength(1);
    });
  });

  describe('a staged move (§2.7)', () => {
    /** A's first copy (§2.8) as the Hive stored it: the envelope A received. */
    const firstCopyOf = (move: MoveView): CommandEnvelope => ({
      id: move.precopyCommandId as string,
      type: CommandType.SchedulerReplicate,
      issuedAt: '',
      params: { instance: app.instance },
    });
    /** Begins a staged move and lets A's first copy succeed (its own tests answer it otherwise). */
    const staged = async (request: Partial<MoveRequest> = {}): Promise<MoveView> => {
      const move = await begin({ stage: true, ...request });
      await answer(a, firstCopyOf(move), { ok: true });
      await hive.moves.idle();
      return stored(move.id);
    };
    const typesOf = (device: ScriptedDevice) => device.received.map((e) => e.type);

    it('staging → stopping → replicated → restoring → running: A copies while B stages, A running the app, then A stops, then B starts', async () => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await begin({ stage: true });
      // A's first copy and B's stage go out side by side, the app still running on A.
      expect(move).toMatchObject({ state: 'staging', precopyCommandId: expect.any(String), prepareCommandId: expect.any(String), stageUpdateCommandId: null, stopCommandId: null });
      expect(deviceA.received).toEqual([
        { id: move.precopyCommandId, type: CommandType.SchedulerReplicate, issuedAt: expect.any(String), params: { instance: app.instance } },
      ]);
      // A's copy done (in the same second as B's stage below: B stages it), B still staging.
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect(await stored(move.id)).toMatchObject({ state: 'staging', stopCommandId: null });
      expect(deviceB.received).toEqual([
        {
          id: move.prepareCommandId,
          type: CommandType.SchedulerPrepare,
          issuedAt: expect.any(String),
          params: { instance: app.instance, start: startParams(app, true) },
        },
      ]);
      // Nothing stops while B stages: the app still runs on A.
      expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate]);
      expect((await appNow())).toMatchObject({ deviceId: a, desired: 'running' });
      await hive.moves.sweep();
      expect((await stored(move.id)).state).toBe('staging');

      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      const stopping = (await stored(move.id));
      // B's stage holds A's copy (staged from a snapshot no older than it): no update of it.
      expect(stopping).toMatchObject({ state: 'stopping', stopCommandId: expect.any(String), stageUpdateCommandId: null });
      expect(typesOf(deviceB)).toEqual([CommandType.SchedulerPrepare]);
      expect(deviceA.received[1]).toEqual(
        { id: stopping.stopCommandId, type: CommandType.SchedulerStop, issuedAt: expect.any(String), params: { instance: app.instance, replicate: true } },
      );
      await answer(a, deviceA.received[1], { ok: true });
      await hive.moves.idle();
      expect(deviceB.received[1]).toMatchObject({ type: CommandType.SchedulerStart, params: startParams(app, true) });
      await answer(b, deviceB.received[1], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'running', error: null });
      expect((await appNow())).toMatchObject({ deviceId: b, desired: 'running' });
    });

    it.each([ErrorCode.UNKNOWN_COMMAND, ErrorCode.EXPIRED, ErrorCode.BUSY])('moves unstaged when B refuses the prepare with %s (it did nothing)', async (code) => {
      const deviceA = connect(a);
      connect(b).nextAck(refuse(code));
      const move = await staged();
      expect((await stored(move.id))).toMatchObject({ state: 'stopping', stopCommandId: expect.any(String), error: null });
      expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate, CommandType.SchedulerStop]);
    });

    it('fails before anything stops when B refuses the prepare otherwise', async () => {
      const deviceA = connect(a);
      connect(b).nextAck(refuse(ErrorCode.INVALID_PARAMS));
      const move = await staged();
      expect((await stored(move.id))).toMatchObject({ state: 'failed', error: { code: ErrorCode.INVALID_PARAMS } });
      expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate]);
    });

    it.each([
      ['its stage failed (a full disk)', ErrorCode.RESTORE_FAILED],
      ['the keys do not open there', ErrorCode.PASSPHRASE_MISMATCH],
    ])('fails before anything stops when %s: the app stays where it runs', async (_label, code) => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await staged();
      await answer(b, deviceB.received[0], { ok: false, code });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({
        state: 'failed',
        error: { code, message: expect.stringMatching(new RegExp(`Device ${b} could not stage the app \\(${code}: .*\\); it was never stopped`)) },
      });
      expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate]);
      expect((await appNow())).toMatchObject({ deviceId: a, desired: 'running' });
      // Nothing was kept by a failed stage: no drop is asked for.
      expect(deviceB.received).toHaveLength(1);
    });

    it('fails when B stays away longer than the grace while it stages; A never stopped', async () => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await staged();
      disconnect(deviceB);
      await hive.moves.sweep();
      clock.advance(GRACE_MS - 1);
      await hive.moves.sweep();
      expect((await stored(move.id)).state).toBe('staging');
      clock.advance(1);
      await hive.moves.sweep();
      expect((await stored(move.id))).toMatchObject({ state: 'failed', error: { code: 'DEVICE_OFFLINE', message: expect.stringContaining('its stage') } });
      expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate]);
      expect((await appNow())).toMatchObject({ deviceId: a, desired: 'running' });
      await hive.moves.idle(); // the move's end is over, its drop of a stage B had not finished included

      // B comes back and its stage's result arrives after the move ended: nobody will use that copy
      // of the data, so B is asked to drop it.
      const back = connect(b);
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect(back.received).toEqual([
        expect.objectContaining({ type: CommandType.SchedulerPrepare, params: { instance: app.instance, discard: true } }),
      ]);
      expect((await stored(move.id)).state).toBe('failed');
    });

    it('asks B to drop its stage when the move fails after it (A could not give a final replica)', async () => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await staged();
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      const dropped = deviceB.nextCommand();
      await answer(a, deviceA.received[1], { ok: false, code: ErrorCode.REPLICATION_FAILED });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'failed', error: { code: ErrorCode.REPLICATION_FAILED } });
      expect(await dropped).toMatchObject({ type: CommandType.SchedulerPrepare, params: { instance: app.instance, discard: true } });
    });

    it('A goes away while B stages: failed after the grace (B drops its stage), or with force on to B from the stage', async () => {
      for (const force of [false, true]) {
        const deviceA = connect(a);
        const deviceB = connect(b);
        const move = await staged({ force });
        disconnect(deviceA);
        await answer(b, deviceB.received[0], { ok: true });
        await hive.moves.idle(); // finds A away: waits for it
        expect((await stored(move.id))).toMatchObject({ state: 'staging', stopCommandId: null });
        clock.advance(GRACE_MS - 1);
        await hive.moves.sweep();
        expect((await stored(move.id)).state).toBe('staging');
        clock.advance(1);
        const next = deviceB.nextCommand();
        await hive.moves.sweep();
        if (force) {
          expect((await stored(move.id))).toMatchObject({ state: 'restoring', stopError: { code: 'DEVICE_OFFLINE' }, lossWindow: expect.any(Object) });
          expect(await next).toMatchObject({ type: CommandType.SchedulerStart, params: startParams(app, true) });
        } else {
          expect((await stored(move.id))).toMatchObject({ state: 'failed', error: { code: 'DEVICE_OFFLINE', message: expect.stringContaining(a) } });
          expect(await next).toMatchObject({ type: CommandType.SchedulerPrepare, params: { instance: app.instance, discard: true } });
        }
        disconnect(deviceB);
      }
    });

    it('goes on where a restarted Hive left it: the stored prepare, then the stop', async () => {
      const deviceB = connect(b).nextAck(never);
      const prepared = deviceB.nextCommand();
      const deviceA = connect(a);
      const copying = deviceA.nextCommand();
      const { move } = await hive.moves.move(app.instance, { to: b, wait: false, stage: true });
      await answer(a, await copying, { ok: true });
      await prepared;
      expect(deviceB.received).toHaveLength(1);
      await hive.moves.onModuleDestroy();
      const next = await hiveProcess(db, clock);
      await next.moves.resume();
      const deviceA2 = connect(a, next);
      const deviceB2 = connect(b, next);
      await next.moves.idle();
      // The same prepare (same id) goes to B again; B runs it at most once.
      expect(deviceB2.received.map((e) => e.id)).toEqual([deviceB.received[0].id]);
      await answer(b, deviceB2.received[0], { ok: true }, next);
      await next.moves.idle();
      expect((await next.moves.get(move.id)).state).toBe('stopping');
      expect(deviceA2.received.map((e) => e.type)).toEqual([CommandType.SchedulerStop]);
      await next.moves.onModuleDestroy();
    });

    describe("A's first copy (§2.8)", () => {
      /** B's stage, staged from a snapshot of `snapshotAt`. */
      const stageResult = (envelope: CommandEnvelope, snapshotAt: string) => ({
        id: envelope.id,
        type: envelope.type,
        ok: true,
        result: { instance: app.instance, staged: [{ name: `mosaic-${app.instance}-app`, snapshot: 'b'.repeat(64), snapshotAt, bytes: 1024 }] },
        finishedAt: clock.now().toISOString(),
      });

      it("waits for A's copy once B staged, then has B bring its stage up to date with it before A stops", async () => {
        const deviceA = connect(a);
        const deviceB = connect(b);
        const move = await begin({ stage: true });
        // B staged the periodic replica, an hour old, before A's copy ended: A's copy is waited for.
        const periodic = new Date(clock.ms - 3_600_000).toISOString();
        expect(await hive.commands.recordResult(b, stageResult(deviceB.received[0], periodic) as never)).toBe('recorded');
        await hive.moves.idle();
        expect(await stored(move.id)).toMatchObject({ state: 'staging', stageUpdateCommandId: null, stopCommandId: null });
        expect(typesOf(deviceB)).toEqual([CommandType.SchedulerPrepare]);

        const updated = deviceB.nextCommand();
        await answer(a, deviceA.received[0], { ok: true });
        expect(await updated).toMatchObject({ type: CommandType.SchedulerPrepare, params: { instance: app.instance, start: startParams(app, true) } });
        await hive.moves.idle();
        const updating = await stored(move.id);
        expect(updating).toMatchObject({ state: 'staging', stageUpdateCommandId: deviceB.received[1].id, stopCommandId: null });
        expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate]);

        await answer(b, deviceB.received[1], { ok: true });
        await hive.moves.idle();
        expect(await stored(move.id)).toMatchObject({ state: 'stopping', stopCommandId: expect.any(String) });
        expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate, CommandType.SchedulerStop]);
      });

      it.each([
        ['refuses it as UNKNOWN_COMMAND (a device from before it)', { refused: ErrorCode.UNKNOWN_COMMAND }],
        ['refuses it as BUSY', { refused: ErrorCode.BUSY }],
        ['fails it (REPLICATION_FAILED)', { failed: ErrorCode.REPLICATION_FAILED }],
      ])('stops A once B staged when A %s: the copy only saves downtime', async (_label, outcome) => {
        const deviceA = connect(a);
        if ('refused' in outcome) deviceA.nextAck(refuse(outcome.refused));
        const deviceB = connect(b);
        const move = await begin({ stage: true });
        if ('failed' in outcome) {
          await answer(a, deviceA.received[0], { ok: false, code: outcome.failed });
          await hive.moves.idle();
        }
        expect(await stored(move.id)).toMatchObject({ state: 'staging', error: null, stopCommandId: null });
        await answer(b, deviceB.received[0], { ok: true });
        await hive.moves.idle();
        expect(await stored(move.id)).toMatchObject({ state: 'stopping', error: null, stageUpdateCommandId: null });
        expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate, CommandType.SchedulerStop]);
        expect(typesOf(deviceB)).toEqual([CommandType.SchedulerPrepare]);
      });

      it("B refuses the stage (BUSY) while A copies: A's stop waits for the copy, which holds the app on A", async () => {
        const deviceA = connect(a);
        connect(b).nextAck(refuse(ErrorCode.BUSY));
        const move = await begin({ stage: true });
        await hive.moves.sweep();
        expect(await stored(move.id)).toMatchObject({ state: 'staging', stopCommandId: null });
        expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate]);
        await answer(a, deviceA.received[0], { ok: true });
        await hive.moves.idle();
        expect(await stored(move.id)).toMatchObject({ state: 'stopping', stopCommandId: expect.any(String), stageUpdateCommandId: null });
        expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate, CommandType.SchedulerStop]);
      });

      it("B's stage is followed all the same while A's copy could not be sent (A away): a failed stage fails the move", async () => {
        const deviceA = connect(a).nextAck(noAck);
        const deviceB = connect(b);
        const move = await begin({ stage: true });
        disconnect(deviceA);
        await answer(b, deviceB.received[0], { ok: false, code: ErrorCode.RESTORE_FAILED });
        await hive.moves.idle();
        expect(await stored(move.id)).toMatchObject({ state: 'failed', error: { code: ErrorCode.RESTORE_FAILED }, stopCommandId: null });
      });

      it('A goes away while it copies: once B staged, the stop waits for A as always', async () => {
        const deviceA = connect(a);
        const deviceB = connect(b);
        const move = await begin({ stage: true });
        disconnect(deviceA);
        await answer(b, deviceB.received[0], { ok: true });
        await hive.moves.idle(); // the Hive notes A away from now
        clock.advance(GRACE_MS - 1);
        await hive.moves.sweep();
        expect(await stored(move.id)).toMatchObject({ state: 'staging', stopCommandId: null });
        clock.advance(1);
        const dropped = deviceB.nextCommand();
        await hive.moves.sweep();
        // Past the grace without the copy: on to A's stop, which finds A away and fails the move (not forced).
        expect(await stored(move.id)).toMatchObject({ state: 'failed', error: { code: 'DEVICE_OFFLINE' } });
        expect(await dropped).toMatchObject({ type: CommandType.SchedulerPrepare, params: { instance: app.instance, discard: true } });
      });

      it('a failed update of the stage fails the move before anything stops, as a failed stage does', async () => {
        const deviceA = connect(a);
        const deviceB = connect(b);
        const move = await begin({ stage: true });
        const periodic = new Date(clock.ms - 3_600_000).toISOString();
        expect(await hive.commands.recordResult(b, stageResult(deviceB.received[0], periodic) as never)).toBe('recorded');
        const updated = deviceB.nextCommand();
        await answer(a, deviceA.received[0], { ok: true });
        await answer(b, await updated, { ok: false, code: ErrorCode.RESTORE_FAILED });
        await hive.moves.idle();
        expect(await stored(move.id)).toMatchObject({ state: 'failed', error: { code: ErrorCode.RESTORE_FAILED }, stopCommandId: null });
        expect(typesOf(deviceA)).toEqual([CommandType.SchedulerReplicate]);
        // The failed update left no stage: nothing to drop.
        expect(typesOf(deviceB)).toEqual([CommandType.SchedulerPrepare, CommandType.SchedulerPrepare]);
      });

      it('a restarted Hive sends the stored first copy again (same id) and goes on', async () => {
        const deviceA = connect(a).nextAck(never);
        const copying = deviceA.nextCommand();
        const deviceB = connect(b);
        const { move } = await hive.moves.move(app.instance, { to: b, wait: false, stage: true });
        const first = await copying;
        await hive.moves.onModuleDestroy();
        const next = await hiveProcess(db, clock);
        await next.moves.resume();
        const deviceA2 = connect(a, next);
        connect(b, next);
        await next.moves.idle();
        expect(deviceA2.received.map((e) => e.id)).toEqual([first.id]);
        await answer(a, deviceA2.received[0], { ok: true }, next);
        await answer(b, deviceB.received[0], { ok: true }, next);
        await next.moves.idle();
        expect(await next.moves.get(move.id)).toMatchObject({ state: 'stopping', stageUpdateCommandId: null });
        expect(deviceA2.received.map((e) => e.type)).toEqual([CommandType.SchedulerReplicate, CommandType.SchedulerStop]);
        await next.moves.onModuleDestroy();
      });
    });
  });

  describe('transitions', () => {
    it('stopping → replicated → restoring → running: a stop with replication on A, then the stored start with failover on B', async () => {
      let ackStart!: () => void;
      const deviceA = connect(a);
      const deviceB = connect(b).nextAck(
        (envelope) => new Promise((resolve) => (ackStart = () => resolve({ id: envelope.id, accepted: true }))),
      );

      const started = await begin();
      expect(started).toMatchObject({
        from: a,
        to: b,
        force: false,
        state: 'stopping',
        error: null,
        lossWindow: null,
        startCommandId: null,
      });
      const [stop] = deviceA.received;
      expect(stop).toEqual({
        id: started.stopCommandId,
        type: CommandType.SchedulerStop,
        issuedAt: expect.any(String),
        params: { instance: app.instance, replicate: true },
      });
      expect((await appNow()).desired).toBe('stopped'); // A accepted the stop

      const sent = deviceB.nextCommand();
      await answer(a, stop, { ok: true });
      await sent; // B has not acknowledged it yet
      const restoring = (await stored(started.id));
      expect(restoring).toMatchObject({ state: 'restoring', startCommandId: expect.any(String) });
      const [start] = deviceB.received;
      expect(start).toEqual({
        id: restoring.startCommandId,
        type: CommandType.SchedulerStart,
        issuedAt: expect.any(String),
        params: startParams(app, true),
      });
      expect(start.params).toEqual({ ...startParams(app, false), failover: true });
      expect((await appNow()).deviceId).toBe(a);

      ackStart();
      await hive.moves.idle();
      expect((await stored(started.id)).state).toBe('restoring');
      clock.advance(5_000);
      await answer(b, start, { ok: true });
      await hive.moves.idle();
      expect((await stored(started.id))).toMatchObject({
        state: 'running',
        error: null,
        lossWindow: null,
        finishedAt: new Date(clock.ms).toISOString(),
      });
      expect((await appNow())).toMatchObject({ deviceId: b, desired: 'running' });
      expect(deviceA.received).toHaveLength(1);
      expect(deviceB.received).toHaveLength(1);
    });

    it('waits for the end when asked to, and says whether it ended', async () => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      // The waiting move() registers its run only once the move is written: wait for the commands themselves.
      const stopSent = deviceA.nextCommand();
      const moving = hive.moves.move(app.instance, { to: b, stage: false, timeoutSeconds: 5 });
      const startSent = deviceB.nextCommand();
      await answer(a, await stopSent, { ok: true });
      await answer(b, await startSent, { ok: true });
      expect(await moving).toMatchObject({ settled: true, move: { state: 'running' } });
    });

    it.each([
      ['A fails its final replication', { ok: false as const, code: ErrorCode.REPLICATION_FAILED }],
      ['A no longer writes the replica', { ok: false as const, code: ErrorCode.NOT_WRITER }],
    ])('fails, and leaves the app on A, when %s', async (_label, outcome) => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await begin();
      await answer(a, deviceA.received[0], outcome);
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({
        state: 'failed',
        error: { code: outcome.code, message: `it failed: ${outcome.code}` },
        lossWindow: null,
        finishedAt: expect.any(String),
      });
      expect(deviceB.received).toEqual([]);
      expect((await appNow())).toMatchObject({ deviceId: a, desired: 'stopped' });
      await expect(hive.moves.assertNotMoving(app.instance)).resolves.toBeUndefined();
    });

    it('fails when A refuses the stop, or does not acknowledge it', async () => {
      const deviceA = connect(a).nextAck(refuse(ErrorCode.BUSY), noAck);
      const deviceB = connect(b);
      const busy = await begin();
      expect((await stored(busy.id))).toMatchObject({ state: 'failed', error: { code: ErrorCode.BUSY } });
      expect((await appNow()).desired).toBe('running'); // A never accepted a stop

      const silent = await begin();
      expect((await stored(silent.id))).toMatchObject({ state: 'failed', error: { code: 'NO_ANSWER', message: expect.stringContaining(a) } });
      expect(deviceA.received).toHaveLength(2);
      expect(deviceB.received).toEqual([]);
    });

    it("with force, goes on after REPLICATION_FAILED and records the loss window from A's latest report.volumes", async () => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const appAt = new Date(T0 - 90 * 60_000).toISOString(); // 90 min before the move
      const linkAt = new Date(T0 - 10 * 60_000).toISOString(); // 10 min before
      await reportVolumes(appAt, linkAt);
      clock.advance(30_000);

      const move = await begin({ force: true });
      await answer(a, deviceA.received[0], { ok: false, code: ErrorCode.REPLICATION_FAILED });
      await hive.moves.idle();
      const restoring = (await stored(move.id));
      expect(restoring).toMatchObject({
        state: 'restoring',
        error: null,
        stopError: { code: ErrorCode.REPLICATION_FAILED },
        lossWindow: {
          lastReplicatedAt: linkAt,
          ageSeconds: 10 * 60 + 30,
          reportedAt: new Date(T0).toISOString(),
          volumes: [
            { name: `mosaic-${app.instance}-app`, role: 'app', lastReplicatedAt: appAt },
            { name: `mosaic-${app.instance}-link`, role: 'link', lastReplicatedAt: linkAt },
          ],
        },
      });
      expect(deviceB.received[0].params).toEqual(startParams(app, true));
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'running', lossWindow: restoring.lossWindow });
      expect((await appNow()).deviceId).toBe(b);
    });

    it('with force and A offline, skips the stop; a never-replicated app has no loss window figures', async () => {
      const deviceB = connect(b);
      await reportVolumes(null, null);
      const move = await begin({ force: true });
      expect(move).toMatchObject({
        state: 'restoring',
        stopCommandId: null,
        stopError: { code: 'DEVICE_OFFLINE', message: expect.stringContaining(a) },
        lossWindow: { lastReplicatedAt: null, ageSeconds: null, reportedAt: new Date(T0).toISOString() },
      });
      expect(move.lossWindow?.volumes).toHaveLength(2);
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('running');
    });

    it('with force, takes over an app whose device was revoked; nothing is known about its replicas', async () => {
      const deviceB = connect(b);
      await hive.devices.revoke(a);
      const move = await begin({ force: true });
      expect(move).toMatchObject({
        from: null,
        state: 'restoring',
        stopError: { code: 'APP_UNASSIGNED' },
        lossWindow: { lastReplicatedAt: null, ageSeconds: null, reportedAt: null, volumes: [] },
      });
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await appNow())).toMatchObject({ deviceId: b, desired: 'running' });
    });

    it('fails when B fails its start; the app stays on A, stopped', async () => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await begin();
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      await answer(b, deviceB.received[0], { ok: false, code: ErrorCode.RESTORE_FAILED });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'failed', error: { code: ErrorCode.RESTORE_FAILED } });
      expect((await appNow())).toMatchObject({ deviceId: a, desired: 'stopped' });
    });

    it('fails when B refuses the start', async () => {
      const deviceA = connect(a);
      connect(b).nextAck(refuse(ErrorCode.KEYS_MISSING));
      const move = await begin();
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'failed', error: { code: ErrorCode.KEYS_MISSING } });
    });

    it('waits in replicated while B is away, and sends the start when B proves its passphrase again', async () => {
      const deviceA = connect(a);
      const firstB = connect(b);
      const move = await begin();
      disconnect(firstB);
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'replicated', startCommandId: null });

      const deviceB = connect(b); // no sweep: the proof itself wakes the move
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('restoring');
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('running');
    });

    it('fails in replicated when B stays away longer than the grace', async () => {
      const { move } = await stoppedWhileBIsAway();
      clock.advance(GRACE_MS - 1);
      await hive.moves.sweep();
      expect((await stored(move.id)).state).toBe('replicated');
      clock.advance(1);
      await hive.moves.sweep();
      expect((await stored(move.id))).toMatchObject({ state: 'failed', error: { code: 'DEVICE_OFFLINE', message: expect.stringContaining(b) } });
      expect((await appNow())).toMatchObject({ deviceId: a, desired: 'stopped' });
    });

    it.each([
      [false, 'failed'],
      [true, 'restoring'], // replicated, with the loss window, and on to B at once
    ])('when A goes away during its stop (force %s), gives up on it after the grace: %s', async (force, state) => {
      connect(a);
      connect(b);
      const move = await begin({ force });
      expect((await stored(move.id)).state).toBe('stopping');
      disconnect(hive.sessions.authenticatedConnection(a) as ScriptedDevice);
      await hive.moves.sweep(); // the sweep that first finds A away
      expect((await stored(move.id)).state).toBe('stopping');
      clock.advance(GRACE_MS - 1);
      await hive.moves.sweep();
      expect((await stored(move.id)).state).toBe('stopping');
      clock.advance(1);
      await hive.moves.sweep();
      const after = (await stored(move.id));
      expect(after.state).toBe(state);
      expect(force ? after.stopError : after.error).toMatchObject({ code: 'DEVICE_OFFLINE', message: expect.stringContaining(a) });
    });

    it('sends an unanswered start again with the same id, at most once per ack timeout', async () => {
      const deviceA = connect(a);
      const deviceB = connect(b).nextAck(noAck);
      const move = await begin();
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('restoring');
      expect(deviceB.received).toHaveLength(1);

      await hive.moves.sweep();
      expect(deviceB.received).toHaveLength(1); // too soon
      clock.advance(GRACE_MS);
      await hive.moves.sweep();
      expect(deviceB.received).toHaveLength(2);
      expect(deviceB.received[1]).toEqual(deviceB.received[0]);
      await answer(b, deviceB.received[1], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('running');
    });

    it('fails when the app is removed during the move', async () => {
      const deviceA = connect(a);
      connect(b);
      const move = await begin();
      await hive.apps.delete(app.instance);
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'failed', error: { code: 'NOT_FOUND' } });
    });
  });

  describe('resume after a restart', () => {
    /** Stops this process and starts the next on the same database; devices reconnect to it later. */
    async function restart(): Promise<HiveProcess> {
      await hive.moves.onModuleDestroy();
      hive = await hiveProcess(db, clock);
      await hive.moves.resume();
      return hive;
    }

    it('logs a boot pass or sweep that fails (the database gone) instead of leaving its rejection unhandled; after shutdown, says nothing', async () => {
      const warned = jest.spyOn(Logger.prototype, 'warn');
      const failing = jest.spyOn(MoveRepository.prototype, 'listUnfinished').mockRejectedValue(new Error('driver has already been destroyed'));
      const rejections: unknown[] = [];
      const onRejection = (reason: unknown) => rejections.push(reason);
      process.on('unhandledRejection', onRejection);
      try {
        hive.moves.onApplicationBootstrap();
        await eventually('the failed boot pass logged', async () => warned.mock.calls.map(([m]) => String(m)), (lines) => lines.some((l) => /^resuming unfinished moves failed .*driver has already been destroyed/.test(l)));
        // Shutting down: the database closes under a pass still running, which is no news.
        await hive.moves.onModuleDestroy();
        warned.mockClear();
        const passes = failing.mock.calls.length;
        hive.moves.onApplicationBootstrap();
        await eventually('the pass ran', async () => failing.mock.calls.length, (n) => n > passes);
        await new Promise((resolve) => setImmediate(resolve));
        await hive.moves.onModuleDestroy();
        expect(warned).not.toHaveBeenCalled();
        expect(rejections).toEqual([]);
      } finally {
        process.off('unhandledRejection', onRejection);
        failing.mockRestore();
        warned.mockRestore();
      }
    });

    it('stopping, the stop never acknowledged: sends it again with the same id once A is back; A dedups', async () => {
      const first = connect(a).nextAck(never);
      const stopped = first.nextCommand();
      connect(b);
      const { move } = await hive.moves.move(app.instance, { to: b, wait: false, stage: false });
      await stopped;
      expect(first.received).toHaveLength(1);

      await restart();
      expect((await stored(move.id)).state).toBe('stopping');
      const deviceB = connect(b);
      const deviceA = connect(a).nextAck((envelope) => Promise.resolve({ id: envelope.id, accepted: true, duplicate: true }));
      await hive.moves.idle();
      expect(deviceA.received).toEqual(first.received);
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'running', stopCommandId: first.received[0].id });
    });

    it("stopping, the stop accepted: sends nothing again and goes on when A's late result arrives", async () => {
      const first = connect(a);
      connect(b);
      const move = await begin();

      await restart();
      const deviceB = connect(b);
      const deviceA = connect(a);
      await hive.moves.idle();
      expect(deviceA.received).toEqual([]);
      await answer(a, first.received[0], { ok: true }); // from A's outbox
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('restoring');
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('running');
    });

    it('stopping, A never comes back: a forced move goes on after the grace', async () => {
      const stopped = connect(a).nextAck(never).nextCommand();
      connect(b);
      const { move } = await hive.moves.move(app.instance, { to: b, force: true, wait: false, stage: false });
      await stopped;
      await restart();
      const deviceB = connect(b);
      clock.advance(GRACE_MS);
      await hive.moves.sweep();
      expect((await stored(move.id))).toMatchObject({
        state: 'restoring',
        stopError: { code: 'DEVICE_OFFLINE' },
        lossWindow: { lastReplicatedAt: null },
      });
      expect(deviceB.received).toHaveLength(1);
    });

    it('stopping, the old stop now too old for A: a fresh stop replaces it', async () => {
      const first = connect(a).nextAck(never);
      const stopped = first.nextCommand();
      connect(b);
      const { move } = await hive.moves.move(app.instance, { to: b, wait: false, stage: false });
      await stopped;

      // Older than the reissue limit by the Hive's clock (commands carry the real time they were issued).
      clock.ms = Date.parse(first.received[0].issuedAt) + REISSUE_EXPIRED_AFTER_MS + 5_000;
      await restart();
      connect(b);
      const deviceA = connect(a).nextAck(refuse(ErrorCode.EXPIRED));
      await hive.moves.idle();
      expect(deviceA.received).toHaveLength(2);
      expect(deviceA.received[0].id).toBe(first.received[0].id);
      const fresh = deviceA.received[1];
      expect(fresh.id).not.toBe(first.received[0].id);
      expect(fresh.params).toEqual({ instance: app.instance, replicate: true });
      expect((await stored(move.id))).toMatchObject({ state: 'stopping', stopCommandId: fresh.id });
    });

    it('replicated: issues the failover start once B is back', async () => {
      const deviceA = connect(a);
      const firstB = connect(b);
      const move = await begin();
      disconnect(firstB);
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('replicated');

      await restart();
      const deviceB = connect(b);
      await hive.moves.idle();
      expect(deviceB.ofType(CommandType.SchedulerStart)).toHaveLength(1);
      expect(deviceB.received[0].params).toEqual(startParams(app, true));
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('running');
    });

    it('restoring, the start never acknowledged: sends it again with the same id once B is back', async () => {
      const deviceA = connect(a);
      const stopped = deviceA.nextCommand();
      const firstB = connect(b).nextAck(never);
      const started = firstB.nextCommand();
      const { move } = await hive.moves.move(app.instance, { to: b, wait: false, stage: false });
      await answer(a, await stopped, { ok: true });
      await started;
      expect(firstB.received).toHaveLength(1);
      expect((await stored(move.id)).state).toBe('restoring');

      await restart();
      const deviceB = connect(b).nextAck((envelope) => Promise.resolve({ id: envelope.id, accepted: true, duplicate: true }));
      await hive.moves.idle();
      expect(deviceB.received).toEqual(firstB.received);
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'running', startCommandId: firstB.received[0].id });
      expect((await appNow()).deviceId).toBe(b);
    });

    it("restoring, the start accepted: waits for B's result, however late", async () => {
      const deviceA = connect(a);
      const firstB = connect(b);
      const move = await begin();
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();

      await restart();
      clock.advance(10 * GRACE_MS);
      await hive.moves.sweep();
      expect((await stored(move.id)).state).toBe('restoring'); // B offline, but it accepted: no limit
      const deviceB = connect(b);
      await hive.moves.idle();
      expect(deviceB.received).toEqual([]);
      await answer(b, firstB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('running');
    });

    it('leaves finished moves alone', async () => {
      const deviceA = connect(a);
      connect(b);
      const move = await begin();
      await answer(a, deviceA.received[0], { ok: false, code: ErrorCode.REPLICATION_FAILED });
      await hive.moves.idle();
      const failed = (await stored(move.id));
      await restart();
      const again = [connect(a), connect(b)];
      await hive.moves.idle();
      expect(again.flatMap((device) => device.received)).toEqual([]);
      expect((await stored(move.id))).toEqual(failed);
    });
  });

  describe('waiting for the end', () => {
    it('wakes a caller whose move ends while it reads the move (the end comes between the read and the wait)', async () => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await begin();
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('restoring');
      const find = MoveRepository.prototype.find;
      jest.spyOn(MoveRepository.prototype, 'find').mockImplementationOnce(async function (this: MoveRepository, id: string) {
        const before = await find.call(this, id);
        // B's start succeeds after the caller read the move, before it waits.
        await answer(b, deviceB.received[0], { ok: true });
        await hive.moves.idle();
        // …and those waiting then were woken (a turn after the end).
        await new Promise((resolve) => setImmediate(resolve));
        return before;
      });
      const ended = await hive.moves.whenFinished(move.id, 600_000);
      expect(ended).toMatchObject({ state: 'running' });
    });
  });

  describe('downtime and total time', () => {
    /** The histogram's count and sum, as /metrics would show them. */
    async function histogram(name: string): Promise<{ count: number; sum: number }> {
      const text = await hive.metrics.registry.getSingleMetricAsString(name);
      const value = (suffix: string) => Number(new RegExp(`^${name}_${suffix}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { count: value('count'), sum: value('sum') };
    }

    it("counts the downtime from A's acknowledged stop to B's start result, the total from the request", async () => {
      let ackStop!: () => void;
      const deviceA = connect(a).nextAck((envelope) => new Promise((resolve) => (ackStop = () => resolve({ id: envelope.id, accepted: true }))));
      const deviceB = connect(b);
      const sent = deviceA.nextCommand();
      const { move } = await hive.moves.move(app.instance, { to: b, wait: false, stage: false });
      await sent; // A has not acknowledged it yet
      expect((await stored(move.id))).toMatchObject({ stoppedAt: null, downtimeMs: null, totalMs: null });
      clock.advance(1_000);
      ackStop();
      await hive.moves.idle();
      expect((await stored(move.id)).stoppedAt).toBe(new Date(T0 + 1_000).toISOString());
      clock.advance(2_000);
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      clock.advance(3_000);
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'running', downtimeMs: 5_000, totalMs: 6_000 });
      expect(await histogram('mosaic_hive_move_downtime_seconds')).toEqual({ count: 1, sum: 5 });
    });

    it("leaves A's first copy and B's staging out of the downtime and in the total", async () => {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await begin({ stage: true });
      clock.advance(4_000); // A copies while the app runs there
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      clock.advance(10_000); // B restores ahead while the app runs on A
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      clock.advance(2_000);
      await answer(a, deviceA.received[1], { ok: true });
      await hive.moves.idle();
      clock.advance(1_000);
      await answer(b, deviceB.received[1], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'running', downtimeMs: 3_000, totalMs: 17_000 });
    });

    it('counts a forced move without its source from the request: downtime and total are one', async () => {
      const deviceB = connect(b);
      const move = await begin({ force: true });
      expect((await stored(move.id))).toMatchObject({ state: 'restoring', stoppedAt: new Date(T0).toISOString() });
      clock.advance(4_000);
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'running', downtimeMs: 4_000, totalMs: 4_000 });
    });

    it('records only the total time of a move that failed, and no downtime', async () => {
      const deviceA = connect(a);
      connect(b);
      const move = await begin();
      clock.advance(1_500);
      await answer(a, deviceA.received[0], { ok: false, code: ErrorCode.REPLICATION_FAILED });
      await hive.moves.idle();
      expect((await stored(move.id))).toMatchObject({ state: 'failed', downtimeMs: null, totalMs: 1_500 });
      expect(await histogram('mosaic_hive_move_downtime_seconds')).toEqual({ count: 0, sum: 0 });
    });
  });

  describe('cancel', () => {
    it('refuses a move that ended: MOVE_FINISHED', async () => {
      const deviceA = connect(a);
      connect(b);
      const move = await begin();
      await answer(a, deviceA.received[0], { ok: false, code: ErrorCode.REPLICATION_FAILED });
      await hive.moves.idle();
      await expect(hive.moves.cancel(move.id)).rejects.toMatchObject({ code: 'MOVE_FINISHED', details: { moveId: move.id, state: 'failed' } });
      expect((await stored(move.id)).state).toBe('failed');
    });

    it('refuses an unknown move: NOT_FOUND', async () => {
      await expect(hive.moves.cancel(randomUUID())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    /** A stopped with its final replica, B accepted its failover start and restores. */
    async function restoring(): Promise<{ deviceA: ScriptedDevice; deviceB: ScriptedDevice; move: MoveView }> {
      const deviceA = connect(a);
      const deviceB = connect(b);
      const move = await begin();
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id)).state).toBe('restoring');
      return { deviceA, deviceB, move };
    }

    /**
     * The cancel of a move whose start B runs, once it waits for that start's result: B's result
     * given sooner could reach the move's own step first, which ends the move failed.
     */
    async function cancelWaitingForStart(id: string): Promise<{ cancelling: Promise<MoveView> }> {
      const onSettled = hive.commands.onSettled.bind(hive.commands);
      const waiting = new Promise<void>((resolve) =>
        jest.spyOn(hive.commands, 'onSettled').mockImplementationOnce((listener) => {
          resolve();
          return onSettled(listener);
        }),
      );
      const cancelling = hive.moves.cancel(id);
      await waiting;
      return { cancelling };
    }

    it('while B restores: waits for its result; B ran the app, so it stays there, and the move ends cancelled', async () => {
      const { deviceA, deviceB, move } = await restoring();
      clock.advance(2_000);
      const { cancelling } = await cancelWaitingForStart(move.id);
      expect((await stored(move.id)).state).toBe('restoring');
      await answer(b, deviceB.received[0], { ok: true });
      const cancelled = await cancelling;
      await hive.moves.idle();
      expect(cancelled).toMatchObject({ state: 'cancelled', resolvedOn: b, resolution: expect.stringContaining('stays there'), totalMs: 2_000 });
      expect((await stored(move.id))).toEqual(cancelled);
      expect((await appNow())).toMatchObject({ deviceId: b, desired: 'running' });
      expect(deviceA.ofType(CommandType.SchedulerStart)).toEqual([]);
    });

    it('while B restores: a start that failed before B claimed the replica leaves the app on A, started again there', async () => {
      const { deviceA, deviceB, move } = await restoring();
      const { cancelling } = await cancelWaitingForStart(move.id);
      await answer(b, deviceB.received[0], { ok: false, code: ErrorCode.KEYS_MISSING });
      expect(await cancelling).toMatchObject({ state: 'cancelled', resolvedOn: a });
      expect(deviceA.ofType(CommandType.SchedulerStart).map((e) => e.params)).toEqual([startParams(app, false)]);
      expect((await appNow())).toMatchObject({ deviceId: a, desired: 'running' });
    });

    it('while B restores: a start that failed after B claimed the replica leaves the app on B', async () => {
      const { deviceB, move } = await restoring();
      const { cancelling } = await cancelWaitingForStart(move.id);
      await answer(b, deviceB.received[0], { ok: false, code: ErrorCode.RESTORE_FAILED });
      expect(await cancelling).toMatchObject({ state: 'cancelled', resolvedOn: b, resolution: expect.stringContaining('RESTORE_FAILED') });
      expect((await appNow()).deviceId).toBe(b);
    });

    it('while B restores without a result in time: B keeps the app (its start claimed the replica first); a late result changes nothing', async () => {
      const { deviceA, deviceB, move } = await restoring();
      const cancelled = await hive.moves.cancel(move.id, 0);
      expect(cancelled).toMatchObject({ state: 'cancelled', resolvedOn: b, resolution: expect.stringContaining('goes on') });
      expect((await appNow())).toMatchObject({ deviceId: b, desired: 'running' });
      await answer(b, deviceB.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toEqual(cancelled);
      expect(deviceA.ofType(CommandType.SchedulerStart)).toEqual([]);
    });

    it('before B got its start: the app stays on A, which has the newest data, and A starts it again', async () => {
      const { deviceA, deviceB, move } = await stoppedWhileBIsAway();
      const cancelled = await hive.moves.cancel(move.id);
      expect(cancelled).toMatchObject({ state: 'cancelled', resolvedOn: a, resolution: expect.stringContaining('started again') });
      const [restart] = deviceA.ofType(CommandType.SchedulerStart);
      expect(restart.params).toEqual(startParams(app, false));
      expect((await appNow())).toMatchObject({ deviceId: a, desired: 'running' });
      expect(deviceB.received).toEqual([]);
    });

    it("while A's stop still runs: the app stays on A; nothing is started there before the stop ends", async () => {
      const deviceA = connect(a);
      connect(b);
      const move = await begin();
      const cancelled = await hive.moves.cancel(move.id);
      expect(cancelled).toMatchObject({ state: 'cancelled', resolvedOn: a, resolution: expect.stringContaining('under way') });
      expect(deviceA.ofType(CommandType.SchedulerStart)).toEqual([]);
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect((await stored(move.id))).toEqual(cancelled);
      expect((await appNow()).deviceId).toBe(a);
    });
  });

  describe('two processes on one database', () => {
    let other: HiveProcess;
    beforeEach(async () => {
      other = await hiveProcess(db, clock);
    });
    afterEach(async () => {
      await other.moves.onModuleDestroy();
      await other.leases.close();
    });

    it("leaves a move to the process that holds its lease: the other's resume and sweeps send nothing; it goes on once the holder stopped", async () => {
      // A is connected to both processes; its stop through this one is never acknowledged.
      const deviceA = connect(a).nextAck(never);
      connect(b);
      const elsewhereA = connect(a, other);
      connect(b, other);
      const stopped = deviceA.nextCommand();
      const { move } = await hive.moves.move(app.instance, { to: b, wait: false, stage: false });
      expect((await stopped).type).toBe(CommandType.SchedulerStop);
      await other.moves.resume();
      clock.advance(GRACE_MS);
      await other.moves.sweep();
      expect(elsewhereA.received).toEqual([]);
      expect((await stored(move.id, other)).state).toBe('stopping');

      // The holder stops (its leases given up): the other process goes on, sending the same stop (same id) through its connection.
      await hive.moves.onModuleDestroy();
      await other.moves.sweep();
      expect(elsewhereA.received.map((e) => e.id)).toEqual([deviceA.received[0].id]);
    });

    it('cancels through the other process: the holder hands the move over at its next renewal', async () => {
      const deviceA = connect(a);
      connect(b);
      const move = await begin();
      expect(deviceA.ofType(CommandType.SchedulerStop)).toHaveLength(1);
      const cancelling = other.moves.cancel(move.id);
      const leases = new LeaseRepository(db);
      await eventually('the other process asks for the lease', () => leases.holder(moveLease(move.id)), (holder) => holder?.wantedBy === other.leases.owner, 5_000);
      await hive.leases.renew(); // the holder hears the request
      const cancelled = await cancelling;
      expect(cancelled).toMatchObject({ state: 'cancelled', resolvedOn: a });
      await answer(a, deviceA.received[0], { ok: true });
      await hive.moves.idle();
      expect(await stored(move.id)).toEqual(cancelled);
    });

    it('writes a step only over the state it was read in: a second writer of the same step changes nothing', async () => {
      connect(a);
      connect(b);
      const move = await begin();
      const repository = new MoveRepository(db);
      const record = (await repository.find(move.id))!;
      expect(record.state).toBe('stopping');
      expect(await repository.save({ ...record, state: 'replicated' }, 'stopping')).toBe(true);
      expect(await repository.save({ ...record, state: 'failed', finishedAt: clock.now().toISOString() }, 'stopping')).toBe(false);
      expect((await repository.find(move.id))!.state).toBe('replicated');
    });
  });
});
