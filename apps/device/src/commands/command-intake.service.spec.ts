import { Logger } from '@nestjs/common';
import {
  CommandType,
  EmptyParamsDto,
  ErrorCode,
  ProtocolException,
  SchedulerStopParamsDto,
  protocolError,
} from '@mosaic/protocol';
import { FakeClock, TempDirs, deviceConfig, stateStore } from '../../../../test/support/device-fixtures';
import { metricValue } from '../../../../test/support/metric-value';
import { strictFake } from '../../../../test/support/strict-fake';
import { InstanceLocks } from '../common/instance-locks';
import { DeviceConfig } from '../config/device-config';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { OutboxService } from '../hive/outbox.service';
import { CommandContext, CommandHandler } from './command-handler';
import { DeviceMetrics } from '../metrics/device-metrics';
import { CommandIntakeService } from './command-intake.service';
import { CommandJournalService } from './command-journal.service';
import { CommandRegistry } from './command-registry';

const NOW = '2026-11-25T10:00:00.000Z';
const ID_1 = '11111111-1111-4111-8111-111111111111';
const ID_2 = '22222222-2222-4222-8222-222222222222';
const ID_3 = '33333333-3333-4333-8333-333333333333';
const INSTANCE_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const INSTANCE_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

function envelope(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: ID_1, type: CommandType.Info, issuedAt: NOW, params: {}, ...overrides };
}

/** A promise the test settles by hand: a command that runs until the test says it finished. */
class Deferred<T> {
  resolve!: (value: T) => void;
  reject!: (err: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** A fake handler whose runs the test finishes one by one. */
class ControlledHandler<P = unknown> implements CommandHandler<P> {
  readonly runs: Array<{ params: P; context: CommandContext; done: Deferred<object> }> = [];

  constructor(
    readonly type: CommandType,
    private readonly lock?: (params: P) => string | undefined,
  ) {}

  lockKey(params: P): string | undefined {
    return this.lock?.(params);
  }

  execute(params: P, context: CommandContext): Promise<object> {
    const done = new Deferred<object>();
    this.runs.push({ params, context, done });
    return done.promise;
  }
}

/** A handler that answers at once with a fixed outcome. */
function immediate(type: CommandType, outcome: () => Promise<object>): CommandHandler & { execute: jest.Mock } {
  return { type, execute: jest.fn(outcome) };
}

describe('CommandIntakeService', () => {
  const dirs = new TempDirs();
  let config: DeviceConfig;
  let clock: FakeClock;
  let sendResult: jest.Mock<Promise<void>, [string, string, unknown]>;
  let request: jest.Mock<Promise<unknown>, [string, unknown]>;
  let setCommandListener: jest.Mock;
  let metrics: DeviceMetrics;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    config = deviceConfig({ stateDir: dirs.make(), commandMaxAgeS: 300 });
    clock = new FakeClock(NOW);
    sendResult = jest.fn().mockResolvedValue(undefined);
    request = jest.fn().mockResolvedValue({ ok: true });
    setCommandListener = jest.fn();
    metrics = new DeviceMetrics();
  });
  afterEach(() => dirs.cleanup());

  /** The intake and its journal as the module would build them, over `config.stateDir`. */
  function start(handlers: CommandHandler[]): { intake: CommandIntakeService; journal: CommandJournalService } {
    const journal = new CommandJournalService(stateStore(config, clock.asClock()), clock.asClock());
    journal.onModuleInit();
    const intake = new CommandIntakeService(
      config,
      new CommandRegistry(handlers),
      journal,
      strictFake<OutboxService>({ sendResult }, 'OutboxService'),
      strictFake<HiveConnectionService>({ setCommandListener, request }, 'HiveConnectionService'),
      clock.asClock(),
      metrics,
      new InstanceLocks(), // each start is a device process of its own
    );
    intake.onModuleInit();
    return { intake, journal };
  }

  it('listens to Hive: the listener it registers is receive()', () => {
    const info = immediate(CommandType.Info, async () => ({ hostname: 'h' }));
    start([info]);
    expect(setCommandListener).toHaveBeenCalledTimes(1);
    const listener = setCommandListener.mock.calls[0][0] as (payload: unknown) => unknown;
    expect(listener(envelope())).toEqual({ id: ID_1, accepted: true });
    expect(info.execute).toHaveBeenCalledTimes(1);
  });

  describe('refusals, before anything runs', () => {
    it.each([
      ['a string', 'SystemCommand.info', '', '(payload)'],
      ['null', null, '', '(payload)'],
      ['an array', [envelope()], '', '(payload)'],
      ['an id that is not a uuid', envelope({ id: 'cmd-1' }), 'cmd-1', 'id'],
      ['an upper-case uuid', envelope({ id: INSTANCE_A.toUpperCase() }), INSTANCE_A.toUpperCase(), 'id'],
      ['no type', envelope({ type: undefined }), ID_1, 'type'],
      ['a type that is not a string', envelope({ type: 7 }), ID_1, 'type'],
      ['issuedAt that is not ISO UTC', envelope({ issuedAt: '25/11/2026 10:00' }), ID_1, 'issuedAt'],
      ['issuedAt with an offset', envelope({ issuedAt: '2026-11-25T11:00:00.000+01:00' }), ID_1, 'issuedAt'],
      ['params that are not an object', envelope({ params: 'x' }), ID_1, 'params'],
      ['no params', envelope({ params: undefined }), ID_1, 'params'],
      ['an unknown envelope field', envelope({ shell: 'rm -rf /' }), ID_1, 'shell'],
    ])('a malformed envelope (%s) → INVALID_PARAMS naming the field', (_label, payload, id, field) => {
      const info = immediate(CommandType.Info, async () => ({}));
      const { intake, journal } = start([info]);
      const ack = intake.receive(payload);
      expect(ack).toEqual({
        id,
        accepted: false,
        error: { code: 'INVALID_PARAMS', message: expect.any(String), details: expect.arrayContaining([expect.objectContaining({ field })]) },
      });
      expect(info.execute).not.toHaveBeenCalled();
      expect(journal.size).toBe(0);
    });

    it('cuts a long raw id in a refusal to 64 characters', () => {
      const { intake } = start([]);
      const ack = intake.receive(envelope({ id: 'x'.repeat(500) }));
      expect(ack.id).toBe('x'.repeat(64));
    });

    it.each([
      ['a type outside the protocol', 'Shell.exec'],
      ['a type that differs only in case', 'systemcommand.info'],
      ['a prototype name', 'constructor'],
      ['a type of the protocol that this device has no handler for', CommandType.UpgradeRun],
    ])('%s → UNKNOWN_COMMAND and no handler runs', (_label, type) => {
      const info = immediate(CommandType.Info, async () => ({}));
      const { intake, journal } = start([info]);
      const ack = intake.receive(envelope({ type }));
      expect(ack).toEqual({ id: ID_1, accepted: false, error: { code: 'UNKNOWN_COMMAND', message: expect.any(String) } });
      expect(info.execute).not.toHaveBeenCalled();
      expect(journal.size).toBe(0);
    });

    it('counts refusals by type and code, with every type it does not run under one label', async () => {
      const { intake } = start([immediate(CommandType.Info, async () => ({}))]);
      intake.receive(envelope({ type: 'Shell.exec' }));
      intake.receive(envelope({ id: ID_2, type: 'x'.repeat(60) }));
      intake.receive(envelope({ id: ID_2, issuedAt: '2020-01-01T00:00:00.000Z' }));
      const commands = 'mosaic_device_commands_total';
      expect(await metricValue(metrics.registry, commands, { type: 'unknown', outcome: 'UNKNOWN_COMMAND' })).toBe(2);
      expect(await metricValue(metrics.registry, commands, { type: CommandType.Info, outcome: 'EXPIRED' })).toBe(1);
      expect(await metricValue(metrics.registry, commands, { type: 'Shell.exec', outcome: 'UNKNOWN_COMMAND' })).toBeUndefined();
    });

    describe('EXPIRED (COMMAND_MAX_AGE_S = 300, at most 60 s in the future)', () => {
      const at = (offsetMs: number) => new Date(Date.parse(NOW) + offsetMs).toISOString();

      it.each([
        ['300.001 s old', -300_001],
        ['one hour old', -3_600_000],
        ['60.001 s in the future', 60_001],
        ['a day in the future', 86_400_000],
      ])('refuses a command issued %s', (_label, offset) => {
        const info = immediate(CommandType.Info, async () => ({}));
        const { intake } = start([info]);
        expect(intake.receive(envelope({ issuedAt: at(offset) }))).toEqual({
          id: ID_1,
          accepted: false,
          error: { code: 'EXPIRED', message: expect.any(String) },
        });
        expect(info.execute).not.toHaveBeenCalled();
      });

      it.each([
        ['exactly 300 s old', -300_000],
        ['just issued', 0],
        ['exactly 60 s in the future', 60_000],
      ])('accepts a command issued %s', (_label, offset) => {
        const info = immediate(CommandType.Info, async () => ({}));
        const { intake } = start([info]);
        expect(intake.receive(envelope({ issuedAt: at(offset) }))).toEqual({ id: ID_1, accepted: true });
      });

      it('measures the age with the injected clock and the configured limit', () => {
        config = deviceConfig({ stateDir: config.stateDir, commandMaxAgeS: 10 });
        const info = immediate(CommandType.Info, async () => ({}));
        const { intake } = start([info]);
        clock.advance(10_001);
        expect(intake.receive(envelope())).toMatchObject({ accepted: false, error: { code: 'EXPIRED' } });
      });
    });

    it('params that fail the type’s DTO → INVALID_PARAMS with details naming params.x', () => {
      const disk = immediate(CommandType.DiskSpace, async () => ({ paths: [] }));
      const { intake, journal } = start([disk]);
      const ack = intake.receive(envelope({ type: CommandType.DiskSpace, params: { x: 1 } }));
      expect(ack).toEqual({
        id: ID_1,
        accepted: false,
        error: {
          code: 'INVALID_PARAMS',
          message: expect.stringContaining('SystemCommand.diskSpace'),
          details: [{ field: 'params.x', problems: [expect.stringContaining('should not exist')] }],
        },
      });
      expect(disk.execute).not.toHaveBeenCalled();
      expect(journal.size).toBe(0);
    });

    it('names every bad field of the params', () => {
      const stop = immediate(CommandType.SchedulerStop, async () => ({}));
      const { intake } = start([stop]);
      const ack = intake.receive(envelope({ type: CommandType.SchedulerStop, params: { instance: 'nope', replicate: 'yes', extra: 1 } }));
      expect(ack.accepted).toBe(false);
      const fields = ack.accepted ? [] : (ack.error.details as Array<{ field: string }>).map((d) => d.field).sort();
      expect(fields).toEqual(['params.extra', 'params.instance', 'params.replicate']);
    });

    it('a type the configuration turns off (refusal()) → NOT_ALLOWED, and it does not run', () => {
      const upgrade: CommandHandler & { execute: jest.Mock } = {
        type: CommandType.UpgradeRun,
        refusal: () => protocolError(ErrorCode.NOT_ALLOWED, 'AUTO_UPDATE is off.'),
        execute: jest.fn(),
      };
      const { intake, journal } = start([upgrade]);
      expect(intake.receive(envelope({ type: CommandType.UpgradeRun }))).toEqual({
        id: ID_1,
        accepted: false,
        error: { code: 'NOT_ALLOWED', message: 'AUTO_UPDATE is off.' },
      });
      expect(upgrade.execute).not.toHaveBeenCalled();
      expect(journal.size).toBe(0);
    });

    it('a handler whose refusal() returns nothing is accepted', () => {
      const upgrade = { type: CommandType.UpgradeRun, refusal: () => undefined, execute: jest.fn(async () => ({})) };
      const { intake } = start([upgrade]);
      expect(intake.receive(envelope({ type: CommandType.UpgradeRun }))).toEqual({ id: ID_1, accepted: true });
    });
  });

  describe('BUSY: one command per lock key at a time', () => {
    const stop = (id: string, instance: string) => envelope({ id, type: CommandType.SchedulerStop, params: { instance } });

    it('refuses a second command for the same instance while the first runs, and accepts it after', async () => {
      const handler = new ControlledHandler<SchedulerStopParamsDto>(CommandType.SchedulerStop, (p) => p.instance);
      const { intake } = start([handler]);
      expect(intake.receive(stop(ID_1, INSTANCE_A))).toEqual({ id: ID_1, accepted: true });
      expect(intake.receive(stop(ID_2, INSTANCE_A))).toEqual({ id: ID_2, accepted: false, error: { code: 'BUSY', message: expect.any(String) } });
      expect(handler.runs).toHaveLength(1);

      handler.runs[0].done.resolve({ instance: INSTANCE_A, state: 'stopped', volumes: [] });
      await intake.idle();
      expect(intake.receive(stop(ID_3, INSTANCE_A))).toEqual({ id: ID_3, accepted: true });
      expect(handler.runs).toHaveLength(2);
    });

    it('frees the lock when the command fails too', async () => {
      const handler = new ControlledHandler<SchedulerStopParamsDto>(CommandType.SchedulerStop, (p) => p.instance);
      const { intake } = start([handler]);
      intake.receive(stop(ID_1, INSTANCE_A));
      handler.runs[0].done.reject(new Error('engine gone'));
      await intake.idle();
      expect(intake.receive(stop(ID_2, INSTANCE_A))).toEqual({ id: ID_2, accepted: true });
    });

    it('runs commands for different instances at once', () => {
      const handler = new ControlledHandler<SchedulerStopParamsDto>(CommandType.SchedulerStop, (p) => p.instance);
      const { intake } = start([handler]);
      expect(intake.receive(stop(ID_1, INSTANCE_A)).accepted).toBe(true);
      expect(intake.receive(stop(ID_2, INSTANCE_B)).accepted).toBe(true);
      expect(handler.runs).toHaveLength(2);
    });

    it('never locks commands without a lock key', () => {
      const handler = new ControlledHandler(CommandType.Info);
      const { intake } = start([handler]);
      expect(intake.receive(envelope({ id: ID_1 })).accepted).toBe(true);
      expect(intake.receive(envelope({ id: ID_2 })).accepted).toBe(true);
      expect(handler.runs).toHaveLength(2);
    });
  });

  describe('running and reporting', () => {
    it('acknowledges at once with { id, accepted: true }, then sends command.result ok:true through the outbox', async () => {
      const handler = new ControlledHandler(CommandType.Info);
      const { intake } = start([handler]);
      expect(intake.receive(envelope())).toEqual({ id: ID_1, accepted: true });
      expect(sendResult).not.toHaveBeenCalled();

      clock.advance(5_000);
      handler.runs[0].done.resolve({ hostname: 'nas' });
      await intake.idle();
      expect(sendResult).toHaveBeenCalledTimes(1);
      expect(sendResult).toHaveBeenCalledWith('command.result', ID_1, {
        id: ID_1,
        type: 'SystemCommand.info',
        ok: true,
        result: { hostname: 'nas' },
        finishedAt: '2026-11-25T10:00:05.000Z',
      });
    });

    it('counts finished commands by type and outcome (ok or the error code) and times them', async () => {
      const handler = new ControlledHandler(CommandType.Info);
      const { intake } = start([handler]);
      intake.receive(envelope());
      intake.receive(envelope({ id: ID_2 }));
      handler.runs[0].done.resolve({ hostname: 'nas' });
      handler.runs[1].done.reject(new ProtocolException(ErrorCode.DOCKER_ERROR, 'engine gone'));
      await intake.idle();
      const commands = 'mosaic_device_commands_total';
      expect(await metricValue(metrics.registry, commands, { type: CommandType.Info, outcome: 'ok' })).toBe(1);
      expect(await metricValue(metrics.registry, commands, { type: CommandType.Info, outcome: 'DOCKER_ERROR' })).toBe(1);
      expect(await metricValue(metrics.registry, 'mosaic_device_command_duration_seconds_count', { type: CommandType.Info })).toBe(2);
    });

    it('gives the handler its params as the validated DTO and a context with the id', () => {
      const handler = new ControlledHandler<SchedulerStopParamsDto>(CommandType.SchedulerStop);
      const { intake } = start([handler]);
      intake.receive(envelope({ type: CommandType.SchedulerStop, params: { instance: INSTANCE_A, replicate: true } }));
      expect(handler.runs[0].params).toBeInstanceOf(SchedulerStopParamsDto);
      expect(handler.runs[0].params).toEqual({ instance: INSTANCE_A, replicate: true });
      expect(handler.runs[0].context.id).toBe(ID_1);
    });

    it('passes an empty params object as EmptyParamsDto', () => {
      const handler = new ControlledHandler(CommandType.DiskSpace);
      const { intake } = start([handler]);
      intake.receive(envelope({ type: CommandType.DiskSpace }));
      expect(handler.runs[0].params).toBeInstanceOf(EmptyParamsDto);
    });

    it('sends command.progress through Hive, best effort', async () => {
      request.mockRejectedValueOnce(new Error('offline'));
      const handler = new ControlledHandler(CommandType.Info);
      const { intake } = start([handler]);
      intake.receive(envelope());
      const { context } = handler.runs[0];
      context.progress('pulling', 40, 'image 1 of 2');
      context.progress('starting');
      expect(request).toHaveBeenNthCalledWith(1, 'command.progress', { id: ID_1, stage: 'pulling', percent: 40, message: 'image 1 of 2' });
      expect(request).toHaveBeenNthCalledWith(2, 'command.progress', { id: ID_1, stage: 'starting' });
      handler.runs[0].done.resolve({});
      await intake.idle();
      expect(sendResult).toHaveBeenCalledWith('command.result', ID_1, expect.objectContaining({ ok: true }));
    });

    it('keeps the code, message and details of a ProtocolException', async () => {
      const failing = immediate(CommandType.Info, async () => {
        throw new ProtocolException(ErrorCode.DOCKER_ERROR, 'The Docker engine does not answer.', { socket: '/var/run/docker.sock' });
      });
      const { intake } = start([failing]);
      intake.receive(envelope());
      await intake.idle();
      expect(sendResult).toHaveBeenCalledWith('command.result', ID_1, {
        id: ID_1,
        type: 'SystemCommand.info',
        ok: false,
        error: { code: 'DOCKER_ERROR', message: 'The Docker engine does not answer.', details: { socket: '/var/run/docker.sock' } },
        finishedAt: NOW,
      });
    });

    it.each([
      ['an Error', () => new TypeError('cannot read properties of undefined'), 'cannot read properties of undefined'],
      ['a string', () => 'plain failure', 'plain failure'],
    ])('turns any other failure (%s) into INTERNAL, without a stack trace', async (_label, thrown, message) => {
      const failing = immediate(CommandType.Info, async () => {
        throw thrown();
      });
      const { intake } = start([failing]);
      intake.receive(envelope());
      await intake.idle();
      const [, , sent] = sendResult.mock.calls[0];
      expect(sent).toEqual({ id: ID_1, type: 'SystemCommand.info', ok: false, error: { code: 'INTERNAL', message }, finishedAt: NOW });
      expect(JSON.stringify(sent)).not.toMatch(/at .*\.ts:\d+/);
    });

    it('idle() waits for every accepted command', async () => {
      const handler = new ControlledHandler(CommandType.Info);
      const { intake } = start([handler]);
      intake.receive(envelope({ id: ID_1 }));
      intake.receive(envelope({ id: ID_2 }));
      let idle = false;
      const waiting = intake.idle().then(() => (idle = true));
      handler.runs[0].done.resolve({});
      await Promise.resolve();
      await Promise.resolve();
      expect(idle).toBe(false);
      handler.runs[1].done.resolve({});
      await waiting;
      expect(sendResult).toHaveBeenCalledTimes(2);
    });
  });

  describe('idempotency', () => {
    it('runs a repeated id once; the repeat is acknowledged with duplicate: true', () => {
      const handler = new ControlledHandler(CommandType.Info);
      const { intake } = start([handler]);
      expect(intake.receive(envelope())).toEqual({ id: ID_1, accepted: true });
      expect(intake.receive(envelope())).toEqual({ id: ID_1, accepted: true, duplicate: true });
      expect(handler.runs).toHaveLength(1);
      expect(sendResult).not.toHaveBeenCalled(); // not finished yet: nothing to re-send
    });

    it('re-sends the stored result when a finished command is repeated', async () => {
      const info = immediate(CommandType.Info, async () => ({ hostname: 'nas' }));
      const { intake } = start([info]);
      intake.receive(envelope());
      await intake.idle();
      const first = sendResult.mock.calls[0][2];

      clock.advance(60_000);
      expect(intake.receive(envelope())).toEqual({ id: ID_1, accepted: true, duplicate: true });
      expect(info.execute).toHaveBeenCalledTimes(1);
      expect(sendResult).toHaveBeenCalledTimes(2);
      expect(sendResult.mock.calls[1]).toEqual(['command.result', ID_1, first]);
    });

    it('answers duplicate even when the repeat is too old to run (the id decides first)', async () => {
      const info = immediate(CommandType.Info, async () => ({}));
      const { intake } = start([info]);
      intake.receive(envelope());
      await intake.idle();
      clock.advance(3_600_000);
      expect(intake.receive(envelope())).toEqual({ id: ID_1, accepted: true, duplicate: true });
    });

    it('does not remember refused ids: a corrected command with the same id can run', () => {
      const disk = immediate(CommandType.DiskSpace, async () => ({ paths: [] }));
      const { intake } = start([disk]);
      expect(intake.receive(envelope({ type: CommandType.DiskSpace, params: { x: 1 } })).accepted).toBe(false);
      expect(intake.receive(envelope({ type: CommandType.DiskSpace }))).toEqual({ id: ID_1, accepted: true });
    });

    it('remembers ids across a restart: new services over the same STATE_DIR answer duplicate and re-send the result', async () => {
      const info = immediate(CommandType.Info, async () => ({ hostname: 'nas' }));
      const before = start([info]);
      before.intake.receive(envelope());
      await before.intake.idle();
      const stored = sendResult.mock.calls[0][2];
      sendResult.mockClear();
      await before.journal.flushed();

      const infoAfter = immediate(CommandType.Info, async () => ({ hostname: 'other' }));
      const after = start([infoAfter]);
      expect(sendResult).not.toHaveBeenCalled(); // nothing was cut off
      expect(after.intake.receive(envelope())).toEqual({ id: ID_1, accepted: true, duplicate: true });
      expect(infoAfter.execute).not.toHaveBeenCalled();
      expect(sendResult).toHaveBeenCalledWith('command.result', ID_1, stored);
    });

    it('reports a command that was running at a crash as failed after the restart, once', async () => {
      const handler = new ControlledHandler(CommandType.Info); // never finishes: the "crash"
      const before = start([handler]);
      before.intake.receive(envelope());
      expect(handler.runs).toHaveLength(1);
      await before.journal.flushed();

      clock.advance(30_000);
      const infoAfter = immediate(CommandType.Info, async () => ({}));
      const after = start([infoAfter]);
      const interrupted = {
        id: ID_1,
        type: 'SystemCommand.info',
        ok: false,
        error: { code: 'INTERNAL', message: expect.stringMatching(/restarted/) },
        finishedAt: '2026-11-25T10:00:30.000Z',
      };
      expect(sendResult).toHaveBeenCalledTimes(1);
      expect(sendResult).toHaveBeenCalledWith('command.result', ID_1, interrupted);

      expect(after.intake.receive(envelope())).toEqual({ id: ID_1, accepted: true, duplicate: true });
      expect(infoAfter.execute).not.toHaveBeenCalled();
      expect(sendResult).toHaveBeenLastCalledWith('command.result', ID_1, interrupted);

      sendResult.mockClear();
      await after.journal.flushed();
      start([infoAfter]); // a second restart does not report it as cut off again
      expect(sendResult).not.toHaveBeenCalled();
    });

    it('has the handler of a cut-off command clear up after it, for the instance it held, holding it meanwhile', async () => {
      const INSTANCE = '6f1c2a52-4f3e-4b8e-9d57-0c4b1e6b2a10';
      const prepareParams = { instance: INSTANCE };
      const prepare = new ControlledHandler<{ instance: string }>(CommandType.SchedulerPrepare, (p) => p.instance);
      const before = start([prepare]);
      expect(before.intake.receive(envelope({ type: CommandType.SchedulerPrepare, params: prepareParams }))).toEqual({ id: ID_1, accepted: true });
      await before.journal.flushed();

      // The device dies while the plugin stages; the next one finds the prepare in the journal.
      const cleared = new Deferred<void>();
      const after = new ControlledHandler<{ instance: string }>(CommandType.SchedulerPrepare, (p) => p.instance);
      const interrupted = jest.fn((lock: string) => (lock === INSTANCE ? cleared.promise : Promise.reject(new Error(`wrong lock ${lock}`))));
      const { intake } = start([Object.assign(after, { interrupted })]);
      expect(interrupted).not.toHaveBeenCalled(); // later, once the result is on its way
      await new Promise((resolve) => setImmediate(resolve));
      expect(interrupted).toHaveBeenCalledWith(INSTANCE);
      expect(sendResult).toHaveBeenCalledWith('command.result', ID_1, expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'INTERNAL' }) }));
      // While it clears up, a new command for the instance is BUSY; afterwards it runs.
      const next = envelope({ id: ID_2, type: CommandType.SchedulerPrepare, params: prepareParams });
      expect(intake.receive(next)).toMatchObject({ accepted: false, error: { code: ErrorCode.BUSY } });
      cleared.resolve();
      await intake.idle();
      expect(intake.receive(next)).toEqual({ id: ID_2, accepted: true });
    });

    it('clears up nothing after a cut-off command that held no lock, or whose handler has nothing to clear', async () => {
      const info = new ControlledHandler(CommandType.Info);
      const before = start([info]);
      before.intake.receive(envelope());
      await before.journal.flushed();
      const interrupted = jest.fn(async () => undefined);
      const { intake } = start([Object.assign(new ControlledHandler(CommandType.Info), { interrupted })]);
      await intake.idle();
      expect(interrupted).not.toHaveBeenCalled();
      expect(sendResult).toHaveBeenCalledTimes(1);
    });

    it('logs a clear-up that fails, and frees the instance', async () => {
      const INSTANCE = '6f1c2a52-4f3e-4b8e-9d57-0c4b1e6b2a10';
      const prepare = new ControlledHandler<{ instance: string }>(CommandType.SchedulerPrepare, (p) => p.instance);
      const before = start([prepare]);
      before.intake.receive(envelope({ type: CommandType.SchedulerPrepare, params: { instance: INSTANCE } }));
      await before.journal.flushed();
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const interrupted = jest.fn(async () => {
        throw new Error('the plugin does not answer');
      });
      const { intake } = start([Object.assign(new ControlledHandler<{ instance: string }>(CommandType.SchedulerPrepare, (p) => p.instance), { interrupted })]);
      await intake.idle();
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/clearing up after SchedulerAction\.prepare .*the plugin does not answer/));
      warn.mockRestore();
      expect(intake.receive(envelope({ id: ID_2, type: CommandType.SchedulerPrepare, params: { instance: INSTANCE } }))).toEqual({ id: ID_2, accepted: true });
    });

    it('lets a handler that can take over a cut-off command finish it, holding its lock meanwhile', async () => {
      const upgrade = new ControlledHandler<object>(CommandType.UpgradeRun, () => 'upgrade');
      const before = start([upgrade]);
      expect(before.intake.receive(envelope({ type: CommandType.UpgradeRun }))).toEqual({ id: ID_1, accepted: true });
      await before.journal.flushed();

      // The device was replaced while the upgrade ran; the new one finds it in the journal.
      const finished = new Deferred<object>();
      const resumed = new ControlledHandler<object>(CommandType.UpgradeRun, () => 'upgrade');
      const resume = jest.fn((id: string) => (id === ID_1 ? { lockKey: 'upgrade', done: finished.promise } : undefined));
      const after = start([Object.assign(resumed, { resume })]);
      expect(resume).toHaveBeenCalledWith(ID_1);
      expect(sendResult).not.toHaveBeenCalled();
      expect(after.intake.receive(envelope({ id: ID_2, type: CommandType.UpgradeRun }))).toMatchObject({ accepted: false, error: { code: ErrorCode.BUSY } });

      finished.resolve({ updater: { image: 'i', containerId: 'u' }, targets: ['mosaic-device'], version: '0.2.0' });
      await after.intake.idle();
      expect(sendResult).toHaveBeenCalledWith('command.result', ID_1, {
        id: ID_1,
        type: CommandType.UpgradeRun,
        ok: true,
        result: { updater: { image: 'i', containerId: 'u' }, targets: ['mosaic-device'], version: '0.2.0' },
        finishedAt: NOW,
      });
      expect(after.intake.receive(envelope({ id: ID_3, type: CommandType.UpgradeRun }))).toEqual({ id: ID_3, accepted: true });
    });

    it('ends a cut-off command INTERNAL when its handler cannot take it over', async () => {
      const before = start([new ControlledHandler(CommandType.UpgradeRun)]);
      before.intake.receive(envelope({ type: CommandType.UpgradeRun }));
      await before.journal.flushed();
      const resume = jest.fn(() => undefined);
      start([Object.assign(new ControlledHandler(CommandType.UpgradeRun), { resume })]);
      expect(resume).toHaveBeenCalledWith(ID_1);
      expect(sendResult).toHaveBeenCalledWith('command.result', ID_1, expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'INTERNAL' }) }));
    });
  });
});
