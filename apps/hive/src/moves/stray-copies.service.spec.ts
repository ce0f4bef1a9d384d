import { Logger } from '@nestjs/common';
import { AppReportDto, AppState, CommandType } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { AppRecord, AppRepository } from '../apps/app.repository';
import { CommandsService, SendOutcome } from '../commands/commands.service';
import { Clock } from '../common/clock';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HiveConfig } from '../config/hive-config';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { DeviceRepository } from '../devices/device.repository';
import { KeysService } from '../keys/keys.service';
import { MoveRecord, MoveRepository } from './move.repository';
import { STRAY_CHECK_WINDOW_MS, StrayCopiesService } from './stray-copies.service';

const CONFIG = { commandTimeoutS: 30 } as HiveConfig;
const T0 = Date.parse('2026-12-06T12:00:00.000Z');

class FakeClock extends Clock {
  ms = T0;
  override now(): Date {
    return new Date(this.ms);
  }
}

describe('StrayCopiesService', () => {
  let db: HiveDatabase;
  let apps: AppRepository;
  let moves: MoveRepository;
  let clock: FakeClock;
  let sent: Array<{ deviceId: string; type: unknown; params: unknown }>;
  let ack: (deviceId: string) => SendOutcome | Promise<never>;
  let keyed: Set<string>;
  let keyReads: string[][];
  let strays: StrayCopiesService;
  let a: string;
  let b: string;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await openTestDatabase();
    apps = new AppRepository(db);
    moves = new MoveRepository(db);
    clock = new FakeClock();
    const devices = new DeviceRepository(db);
    [a, b] = [randomUUID(), randomUUID()];
    for (const [id, name] of [[a, 'attic'], [b, 'basement']]) {
      await devices.insert({ id, name, tokenHash: randomUUID(), createdAt: new Date(T0).toISOString(), lastSeenAt: null, version: '0.1.0' });
    }
    sent = [];
    keyed = new Set();
    ack = () => ({ command: { ack: { accepted: true }, status: 'accepted' }, settled: false }) as unknown as SendOutcome;
    const commands = {
      send: async (deviceId: string, type: unknown, params: unknown) => {
        sent.push({ deviceId, type, params });
        return ack(deviceId);
      },
    } as unknown as CommandsService;
    keyReads = [];
    const keys = {
      withKeys: async (instances: readonly string[]) => {
        keyReads.push([...instances]);
        return new Set(instances.filter((instance) => keyed.has(instance)));
      },
    } as unknown as KeysService;
    strays = new StrayCopiesService(CONFIG, apps, moves, keys, commands, clock, db);
  });

  afterEach(async () => db.close());

  async function installed(deviceId: string): Promise<AppRecord> {
    const instance = randomUUID();
    const record: AppRecord = {
      instance,
      deviceId,
      application: { appstore: 'Mosaic Catalog', name: 'notes', version: '1.0.0' },
      compose: 'services: {}\n',
      variables: {},
      secretVariables: [],
      links: {},
      desired: 'running',
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
    };
    await apps.insert(record);
    keyed.add(instance);
    return record;
  }

  const copy = (instance: string, state: AppState = 'running'): AppReportDto => ({
    instance,
    application: { appstore: 'Mosaic Catalog', name: 'notes', version: '1.0.0' },
    state,
    containers: [],
  });

  async function moveOf(instance: string, from: string, to: string, state: MoveRecord['state'], finished: boolean): Promise<void> {
    const at = new Date(T0).toISOString();
    await moves.insert({
      id: randomUUID(),
      instance,
      fromDeviceId: from,
      toDeviceId: to,
      force: true,
      state,
      error: null,
      stopError: null,
      lossWindow: null,
      precopyCommandId: null,
      prepareCommandId: null,
      stageUpdateCommandId: null,
      stopCommandId: null,
      startCommandId: null,
      createdAt: at,
      updatedAt: at,
      finishedAt: finished ? at : null,
      resolvedOn: null,
      resolution: null,
      stoppedAt: at,
      downtimeMs: null,
      totalMs: null,
    });
  }

  it("stops, without replicating, a copy of an app that moved to another device, saying why", async () => {
    const app = await installed(a);
    await moveOf(app.instance, a, b, 'running', true);
    await apps.assign(app.instance, b, 'running', new Date(T0).toISOString());
    await strays.reported(a, '0.1.0', [copy(app.instance)]);
    expect(sent).toEqual([{ deviceId: a, type: CommandType.SchedulerStop, params: { instance: app.instance, replicate: false, reason: 'moved' } }]);
  });

  it("reads no move for a device's report of its own apps (the every-report case: one query per app)", async () => {
    const app = await installed(a);
    const findUnfinished = jest.spyOn(moves, 'findUnfinished');
    await strays.reported(a, '0.1.0', [copy(app.instance)]);
    expect(findUnfinished).not.toHaveBeenCalled();
    expect(sent).toEqual([]);
  });

  it('checks the reports that come within its window together, across event-loop turns: one read of their apps, one of the keys of those without an app', async () => {
    const own = await installed(a);
    const movedAway = await installed(b);
    const removed = await installed(a);
    await apps.delete(removed.instance);
    const unknown = randomUUID();
    const ownersOf = jest.spyOn(apps, 'ownersOf');
    const find = jest.spyOn(apps, 'find');
    const turn = () => new Promise((next) => setImmediate(next));
    const first = strays.reported(a, '0.1.0', [copy(own.instance), copy(unknown)]);
    await turn();
    const second = strays.reported(a, '0.1.0', [copy(movedAway.instance)]);
    await turn();
    await Promise.all([first, second, strays.reported(b, '0.1.0', [copy(removed.instance, 'degraded'), copy(own.instance, 'stopped')])]);
    expect(ownersOf).toHaveBeenCalledTimes(1);
    expect(new Set(ownersOf.mock.calls[0][0])).toEqual(new Set([own.instance, unknown, movedAway.instance, removed.instance]));
    expect(find).not.toHaveBeenCalled();
    expect(keyReads.map((read) => new Set(read))).toEqual([new Set([unknown, removed.instance])]);
    expect(sent).toEqual([
      { deviceId: a, type: CommandType.SchedulerStop, params: { instance: movedAway.instance, replicate: false, reason: 'moved' } },
      { deviceId: b, type: CommandType.SchedulerStop, params: { instance: removed.instance, replicate: false, reason: 'removed' } },
    ]);
  });

  it('answers the reports still waiting, unchecked, when the Hive stops', async () => {
    const ownersOf = jest.spyOn(apps, 'ownersOf');
    const waiting = strays.reported(a, '0.1.0', [copy((await installed(b)).instance)]);
    strays.onApplicationShutdown();
    await expect(waiting).resolves.toBeUndefined();
    await new Promise((later) => setTimeout(later, STRAY_CHECK_WINDOW_MS * 2));
    expect(ownersOf).not.toHaveBeenCalled();
    expect(sent).toEqual([]);
  });

  it('answers a report whose apps are all stopped at once, without a query', async () => {
    const ownersOf = jest.spyOn(apps, 'ownersOf');
    await strays.reported(a, '0.1.0', [copy((await installed(b)).instance, 'stopped')]);
    expect(ownersOf).not.toHaveBeenCalled();
  });

  it('rejects every report of the turn when their apps cannot be read', async () => {
    jest.spyOn(apps, 'ownersOf').mockRejectedValueOnce(new Error('database gone'));
    const both = [strays.reported(a, '0.1.0', [copy(randomUUID())]), strays.reported(b, '0.1.0', [copy(randomUUID())])];
    await expect(Promise.all(both.map((p) => p.then(() => 'resolved', (err: Error) => err.message)))).resolves.toEqual(['database gone', 'database gone']);
  });

  it('stops a running copy of an app that was removed (its keys stay in the Hive)', async () => {
    const app = await installed(a);
    await apps.delete(app.instance);
    await strays.reported(a, '0.1.0', [copy(app.instance, 'degraded')]);
    expect(sent).toEqual([{ deviceId: a, type: CommandType.SchedulerStop, params: { instance: app.instance, replicate: false, reason: 'removed' } }]);
  });

  it.each([
    ['the app on its own device', async () => (await installed(a)).instance, 'running' as AppState],
    ['a stopped copy', async () => (await installed(b)).instance, 'stopped' as AppState],
    ['an instance the Hive never knew (no app, no keys)', async () => randomUUID(), 'running' as AppState],
    [
      'an app with a move under way (its stop and start decide)',
      async () => {
        const app = await installed(b);
        await moveOf(app.instance, b, a, 'restoring', false);
        return app.instance;
      },
      'starting' as AppState,
    ],
  ])('leaves alone %s', async (_label, instanceOf, state) => {
    await strays.reported(a, '0.1.0', [copy(await instanceOf(), state)]);
    expect(sent).toEqual([]);
  });

  it('leaves the reason out for a device older than 0.1.0, which would refuse it', async () => {
    const app = await installed(b);
    await strays.reported(a, '0.0.9', [copy(app.instance)]);
    expect(sent.map((s) => s.params)).toEqual([{ instance: app.instance, replicate: false }]);
  });

  it('sends one stop per command timeout for a copy that goes on being reported, and again after a refusal', async () => {
    const app = await installed(b);
    await strays.reported(a, '0.1.0', [copy(app.instance)]);
    await strays.reported(a, '0.1.0', [copy(app.instance)]);
    expect(sent).toHaveLength(1);
    clock.ms += CONFIG.commandTimeoutS * 1000;
    ack = () => ({ command: { ack: { accepted: false }, status: 'refused', error: { code: 'BUSY' } }, settled: true }) as unknown as SendOutcome;
    await strays.reported(a, '0.1.0', [copy(app.instance)]);
    expect(sent).toHaveLength(2);
    ack = () => Promise.reject(new HiveError(HiveErrorCode.DEVICE_OFFLINE, 'gone'));
    await strays.reported(a, '0.1.0', [copy(app.instance)]);
    await expect(strays.reported(a, '0.1.0', [copy(app.instance)])).resolves.toBeUndefined();
    expect(sent).toHaveLength(4);
  });
});
