import { Logger } from '@nestjs/common';
import { CommandType, Events } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { HiveConfig } from '../config/hive-config';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { ReportRepository } from '../reports/report.repository';
import { ReportsService } from '../reports/reports.service';
import { DeviceRepository } from '../devices/device.repository';
import { DevicesService } from '../devices/devices.service';
import { DeviceConnection } from '../sessions/device-connection';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { infoResult } from '../testing/fixtures';
import { CommandCompletions } from './command-completions';
import { CommandRepository } from './command.repository';
import { HiveMetrics } from '../metrics/hive-metrics';
import { CommandsService } from './commands.service';

const CONFIG: HiveConfig = {
  adminToken: 'x'.repeat(16),
  port: 0,
  host: '127.0.0.1',
  dbPath: ':memory:',
  commandTimeoutS: 30,
  catalogDir: '/nonexistent/catalog',
  deviceVersion: '1.0.0',
  logLevel: 'log',
  logFormat: 'text',
  devtools: false,
  publicUrl: null,
  consoleDir: '/nonexistent/console',
};

/** A device connection whose acknowledgement each test scripts; it records what was emitted. */
class ScriptedConnection implements DeviceConnection {
  readonly connectionId = randomUUID();
  readonly emitted: Array<{ event: string; payload: any; timeoutMs: number }> = [];
  constructor(
    readonly deviceId: string,
    private readonly acknowledge: (envelope: any) => Promise<unknown>,
  ) {}
  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    this.emitted.push({ event, payload, timeoutMs });
    return this.acknowledge(payload);
  }
  disconnect(): void {
    throw new Error('the commands service never disconnects devices');
  }
}

const accept = (envelope: any) => Promise.resolve({ id: envelope.id, accepted: true });

describe('CommandsService', () => {
  let db: HiveDatabase;
  let sessions: DeviceSessionRegistry;
  let completions: CommandCompletions;
  let commands: CommandsService;
  let deviceId: string;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await openTestDatabase();
    sessions = new DeviceSessionRegistry();
    completions = new CommandCompletions();
    const devices = new DevicesService(new DeviceRepository(db), sessions, new ReportsService(new ReportRepository(db)));
    deviceId = (await devices.create('test')).id;
    commands = new CommandsService(CONFIG, new CommandRepository(db), completions, devices, sessions, new HiveMetrics());
  });

  afterEach(async () => {
    jest.useRealTimers();
    await db.close();
  });

  function connect(acknowledge: (envelope: any) => Promise<unknown>): ScriptedConnection {
    const connection = new ScriptedConnection(deviceId, acknowledge);
    sessions.add(connection);
    sessions.authenticate(connection);
    return connection;
  }

  function resultFor(envelope: any, overrides: Record<string, unknown> = {}) {
    return { id: envelope.id, type: envelope.type, ok: true, result: infoResult(), finishedAt: new Date().toISOString(), ...overrides };
  }

  it('refuses an unknown device, an unknown type and bad params before anything is sent', async () => {
    const connection = connect(accept);
    await expect(commands.send(randomUUID(), CommandType.Info, {}, { wait: false })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(commands.send(deviceId, 'Shell.run', {}, { wait: false })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      details: [{ field: 'type', problems: expect.any(Array) }],
    });
    await expect(commands.send(deviceId, CommandType.Info, { verbose: true }, { wait: false })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      details: [{ field: 'params.verbose', problems: expect.any(Array) }],
    });
    expect(connection.emitted).toEqual([]);
    expect(await commands.list(deviceId, 10)).toEqual([]);
  });

  it('refuses a device that has not authenticated with DEVICE_OFFLINE and stores nothing', async () => {
    sessions.add(new ScriptedConnection(deviceId, accept));
    await expect(commands.send(deviceId, CommandType.Info, {}, { wait: true })).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
    expect(await commands.list(deviceId, 10)).toEqual([]);
  });

  it('emits the §2 envelope and waits for the result', async () => {
    const connection = connect(async (envelope) => {
      // The result may be processed before the acknowledgement; it must still count.
      setImmediate(() => void commands.recordResult(deviceId, resultFor(envelope) as never));
      return { id: envelope.id, accepted: true };
    });
    const outcome = await commands.send(deviceId, CommandType.Info, {}, { wait: true, timeoutMs: 5000 });
    const [{ event, payload, timeoutMs }] = connection.emitted;
    expect(event).toBe(Events.command);
    expect(timeoutMs).toBe(5000);
    expect(payload).toEqual({ id: outcome.command.id, type: CommandType.Info, issuedAt: outcome.command.issuedAt, params: {} });
    expect(outcome).toEqual({
      settled: true,
      command: expect.objectContaining({ status: 'succeeded', ack: { accepted: true }, result: infoResult() }),
    });
  });

  it('keeps a result that overtook its acknowledgement', async () => {
    connect(async (envelope) => {
      await commands.recordResult(deviceId, resultFor(envelope) as never);
      return { id: envelope.id, accepted: true, duplicate: true };
    });
    const outcome = await commands.send(deviceId, CommandType.Info, {}, { wait: false });
    expect(outcome.command).toMatchObject({ status: 'succeeded', ack: { accepted: true, duplicate: true } });
    expect(outcome.settled).toBe(true);
  });

  it('records a refusal with the device error', async () => {
    const error = { code: 'BUSY', message: 'another command runs' };
    connect(async (envelope) => ({ id: envelope.id, accepted: false, error }));
    const outcome = await commands.send(deviceId, CommandType.Info, {}, { wait: true });
    expect(outcome).toEqual({ settled: true, command: expect.objectContaining({ status: 'refused', ack: { accepted: false, error }, error }) });
  });

  it('treats a malformed acknowledgement as a refusal', async () => {
    connect(async () => ({ id: 'someone-else', accepted: 'yes' }));
    const outcome = await commands.send(deviceId, CommandType.Info, {}, { wait: true });
    expect(outcome.command.status).toBe('refused');
    expect(outcome.command.error?.code).toBe('INTERNAL');
  });

  it('marks a command without acknowledgement as timeout, and still takes its late result', async () => {
    connect(() => Promise.reject(new Error('operation has timed out')));
    const outcome = await commands.send(deviceId, CommandType.Info, {}, { wait: true, timeoutMs: 1000 });
    expect(outcome).toEqual({ settled: true, command: expect.objectContaining({ status: 'timeout', ack: null }) });

    expect(await commands.recordResult(deviceId, resultFor(outcome.command) as never)).toBe('recorded');
    expect((await commands.get(deviceId, outcome.command.id)).status).toBe('succeeded');
  });

  it('answers "still running" when the result does not come within the timeout', async () => {
    // Timers only: the database's I/O (PostgreSQL's socket) goes on in real time.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    connect(accept);
    // The caller's clock starts when it waits for the result (after the ack is stored).
    const listen = completions.listen.bind(completions);
    const waiting = new Promise<void>((resolve) => {
      jest.spyOn(completions, 'listen').mockImplementation((id) => {
        const listener = listen(id);
        return { ...listener, wait: (ms) => (resolve(), listener.wait(ms)) };
      });
    });
    const sending = commands.send(deviceId, CommandType.Info, {}, { wait: true, timeoutMs: 10_000 });
    await waiting;
    await jest.advanceTimersByTimeAsync(9_999);
    let done = false;
    void sending.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const outcome = await sending;
    expect(outcome).toEqual({ settled: false, command: expect.objectContaining({ status: 'accepted' }) });
  });

  it('uses the configured timeout when the caller gives none', async () => {
    const connection = connect(accept);
    await commands.send(deviceId, CommandType.Info, {}, { wait: false });
    expect(connection.emitted[0].timeoutMs).toBe(CONFIG.commandTimeoutS * 1000);
  });

  it('lets waiting callers go when the Hive shuts down', async () => {
    // The caller listens for the result before the command goes out: once emitted, it waits.
    let emitted!: () => void;
    const wentOut = new Promise<void>((resolve) => (emitted = resolve));
    connect((envelope) => {
      emitted();
      return accept(envelope);
    });
    const sending = commands.send(deviceId, CommandType.Info, {}, { wait: true, timeoutMs: 600_000 });
    await wentOut;
    completions.onModuleDestroy();
    expect((await sending).settled).toBe(false);
  });

  describe('results', () => {
    async function accepted() {
      connect(accept);
      return (await commands.send(deviceId, CommandType.Info, {}, { wait: false })).command;
    }

    it('records a result once; a repeated one changes nothing', async () => {
      const command = await accepted();
      expect(await commands.recordResult(deviceId, resultFor(command) as never)).toBe('recorded');
      const failed = resultFor(command, { ok: false, result: undefined, error: { code: 'DOCKER_ERROR', message: 'x' } });
      expect(await commands.recordResult(deviceId, failed as never)).toBe('repeated');
      expect(await commands.get(deviceId, command.id)).toMatchObject({ status: 'succeeded', result: infoResult() });
    });

    it('records a failure with its error', async () => {
      const command = await accepted();
      const error = { code: 'DOCKER_ERROR', message: 'the engine is gone' };
      await commands.recordResult(deviceId, resultFor(command, { ok: false, result: undefined, error }) as never);
      expect(await commands.get(deviceId, command.id)).toMatchObject({ status: 'failed', error });
      expect((await commands.get(deviceId, command.id)).result).toBeUndefined();
    });

    it("checks the result against its type's contract", async () => {
      const command = await accepted();
      await expect(commands.recordResult(deviceId, resultFor(command, { result: { hostname: 'box' } }) as never)).rejects.toEqual(expect.objectContaining({ code: 'INVALID_PARAMS' }));
      await expect(commands.recordResult(deviceId, resultFor(command, { type: CommandType.DiskSpace, result: { paths: [] } }) as never)).rejects.toEqual(expect.objectContaining({ code: 'INVALID_PARAMS', details: [{ field: 'type', problems: expect.any(Array) }] }));
      expect((await commands.get(deviceId, command.id)).status).toBe('accepted');
    });

    it("ignores results for unknown commands and for another device's commands", async () => {
      const command = await accepted();
      expect(await commands.recordResult(deviceId, resultFor({ id: randomUUID(), type: CommandType.Info }) as never)).toBe('unknown');
      expect(await commands.recordResult(randomUUID(), resultFor(command) as never)).toBe('unknown');
      expect((await commands.get(deviceId, command.id)).status).toBe('accepted');
    });

    it('keeps the latest progress of a running command', async () => {
      const command = await accepted();
      expect(await commands.recordProgress(deviceId, { id: command.id, stage: 'pull', percent: 10 })).toBe(true);
      expect(await commands.recordProgress(deviceId, { id: command.id, stage: 'up' })).toBe(true);
      expect((await commands.get(deviceId, command.id)).progress).toEqual({ stage: 'up', at: expect.any(String) });
      expect(await commands.recordProgress(deviceId, { id: randomUUID(), stage: 'x' })).toBe(false);
    });
  });

  describe('link tokens in stored params', () => {
    const TOKEN = 'secret-link-token-'.padEnd(43, 'x');

    function startParams() {
      const instance = randomUUID();
      return {
        instance,
        application: { appstore: 'Mosaic Catalog', name: 'notes', version: '1.0.0' },
        compose: 'services:\n  web:\n    image: mosaic-test/busybox\n',
        variables: { NOTES_TITLE: 'Ours' },
        links: { default: { domain: 'notes.mosaic.test', token: TOKEN }, admin: { domain: 'admin.mosaic.test', token: `${TOKEN}2` } },
        failover: false,
      };
    }

    /** The params column as stored, read back from the table itself. */
    const storedParams = async (id: string) =>
      JSON.parse((await db.q.selectFrom('commands').select('params').where('id', '=', id).executeTakeFirstOrThrow()).params);
    const startResult = (envelope: any) => ({ instance: envelope.params.instance, state: 'running', containers: [] });

    it.each([
      ['succeeded', (envelope: any) => resultFor(envelope, { result: startResult(envelope) })],
      ['failed', (envelope: any) => ({ id: envelope.id, type: envelope.type, ok: false, error: { code: 'POLICY_VIOLATION', message: 'no' }, finishedAt: new Date().toISOString() })],
    ])('drops them once a start has %s, keeping every other param', async (_status, result) => {
      const connection = connect(accept);
      const params = startParams();
      const { command } = await commands.send(deviceId, CommandType.SchedulerStart, params, { wait: false });
      expect((await storedParams(command.id)).links.default.token).toBe(TOKEN);
      expect(await commands.recordResult(deviceId, result(connection.emitted[0].payload) as never)).toBe('recorded');
      const { links, ...rest } = params;
      expect((await storedParams(command.id))).toEqual({ ...rest, links: { default: { domain: links.default.domain }, admin: { domain: links.admin.domain } } });
      expect(JSON.stringify(await db.q.selectFrom('commands').selectAll().execute())).not.toContain(TOKEN);
    });

    it('drops them once a device refused the start', async () => {
      connect((envelope) => Promise.resolve({ id: envelope.id, accepted: false, error: { code: 'BUSY', message: 'busy' } }));
      const { command } = await commands.send(deviceId, CommandType.SchedulerStart, startParams(), { wait: false });
      expect(command.status).toBe('refused');
      expect((await storedParams(command.id)).links).toEqual({ default: { domain: 'notes.mosaic.test' }, admin: { domain: 'admin.mosaic.test' } });
    });

    it('keeps them while the start may still be sent again: unacknowledged, or accepted without a result', async () => {
      connect(() => Promise.reject(new Error('operation has timed out')));
      const { command: timedOut } = await commands.send(deviceId, CommandType.SchedulerStart, startParams(), { wait: false, timeoutMs: 1000 });
      expect(timedOut.status).toBe('timeout');
      expect((await storedParams(timedOut.id)).links.default.token).toBe(TOKEN);

      sessions.remove(sessions.authenticatedConnection(deviceId)!);
      connect(accept);
      const { command: accepted } = await commands.send(deviceId, CommandType.SchedulerStart, startParams(), { wait: false });
      expect(accepted.status).toBe('accepted');
      expect((await storedParams(accepted.id)).links.default.token).toBe(TOKEN);
    });
  });

  it('lists newest first, up to the limit', async () => {
    connect(accept);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await commands.send(deviceId, CommandType.Info, {}, { wait: false })).command.id);
    expect((await commands.list(deviceId, 2)).map((c) => c.id)).toEqual([ids[2], ids[1]]);
  });

  describe('prepare and dispatch', () => {
    it('stores a prepared command without sending it, then sends it with its own id and issuedAt', async () => {
      const connection = connect(accept);
      const prepared = await commands.prepare(deviceId, CommandType.Info, {});
      expect(prepared).toMatchObject({ status: 'sent', ack: null });
      expect(connection.emitted).toEqual([]);
      const outcome = await commands.dispatch(deviceId, prepared.id, { wait: false });
      expect(connection.emitted.map((e) => e.payload)).toEqual([{ id: prepared.id, type: CommandType.Info, issuedAt: prepared.issuedAt, params: {} }]);
      expect(outcome.command).toMatchObject({ id: prepared.id, status: 'accepted' });
    });

    it('refuses to prepare for an offline device, and stores nothing', async () => {
      sessions.add(new ScriptedConnection(deviceId, accept));
      await expect(commands.prepare(deviceId, CommandType.Info, {})).rejects.toEqual(expect.objectContaining({ code: 'DEVICE_OFFLINE' }));
      expect(await commands.list(deviceId, 10)).toEqual([]);
    });

    it('sends an unanswered command again, unchanged, and records the new acknowledgement', async () => {
      const connection = connect(() => Promise.reject(new Error('operation has timed out')));
      const first = await commands.send(deviceId, CommandType.Info, {}, { wait: false });
      expect(first.command.status).toBe('timeout');

      sessions.remove(connection);
      const again = connect(async (envelope) => ({ id: envelope.id, accepted: true, duplicate: true }));
      const outcome = await commands.dispatch(deviceId, first.command.id, { wait: false });
      expect(again.emitted[0].payload).toEqual(connection.emitted[0].payload);
      expect(outcome.command).toMatchObject({ id: first.command.id, status: 'accepted', ack: { accepted: true, duplicate: true } });
    });

    it('does not send a finished command again', async () => {
      const connection = connect(async (envelope) => {
        await commands.recordResult(deviceId, resultFor(envelope) as never);
        return { id: envelope.id, accepted: true };
      });
      const { command } = await commands.send(deviceId, CommandType.Info, {}, { wait: false });
      const outcome = await commands.dispatch(deviceId, command.id, { wait: false });
      expect(outcome).toEqual({ settled: true, command: expect.objectContaining({ status: 'succeeded' }) });
      expect(connection.emitted).toHaveLength(1);
    });

    it('looks a command up without throwing', async () => {
      connect(accept);
      const { command } = await commands.send(deviceId, CommandType.Info, {}, { wait: false });
      expect(await commands.lookup(deviceId, command.id)).toEqual(command);
      expect(await commands.lookup(deviceId, randomUUID())).toBeUndefined();
      expect(await commands.lookup(randomUUID(), command.id)).toBeUndefined();
    });
  });

  describe('settled notifications', () => {
    it('tell listeners about results, refusals and missing acknowledgements, not about acceptance', async () => {
      const heard: Array<{ commandId: string; status: string }> = [];
      const stop = commands.onSettled(({ deviceId: device, commandId, status }) => {
        expect(device).toBe(deviceId);
        heard.push({ commandId, status });
      });
      const acks: Array<(envelope: any) => Promise<unknown>> = [
        accept,
        async (envelope) => ({ id: envelope.id, accepted: false, error: { code: 'BUSY', message: 'busy' } }),
        () => Promise.reject(new Error('operation has timed out')),
      ];
      connect((envelope) => acks.shift()!(envelope));
      const accepted = (await commands.send(deviceId, CommandType.Info, {}, { wait: false })).command;
      expect(heard).toEqual([]);
      const refused = (await commands.send(deviceId, CommandType.Info, {}, { wait: false })).command;
      const unanswered = (await commands.send(deviceId, CommandType.Info, {}, { wait: false })).command;
      await commands.recordResult(deviceId, resultFor(accepted) as never);
      await commands.recordResult(deviceId, resultFor(accepted) as never); // repeated: changes nothing, tells nobody
      stop();
      await commands.recordResult(deviceId, resultFor(unanswered) as never);
      expect(heard).toEqual([
        { commandId: refused.id, status: 'refused' },
        { commandId: unanswered.id, status: 'timeout' },
        { commandId: accepted.id, status: 'succeeded' },
      ]);
    });

    it('tell about a result that overtook its acknowledgement once', async () => {
      const heard: string[] = [];
      commands.onSettled(({ status }) => heard.push(status));
      connect(async (envelope) => {
        await commands.recordResult(deviceId, resultFor(envelope) as never);
        return { id: envelope.id, accepted: true };
      });
      await commands.send(deviceId, CommandType.Info, {}, { wait: false });
      expect(heard).toEqual(['succeeded']);
    });

    it('keeps going when a listener throws', async () => {
      const heard: string[] = [];
      commands.onSettled(() => {
        throw new Error('a broken listener');
      });
      commands.onSettled(({ status }) => heard.push(status));
      connect(accept);
      const { command } = await commands.send(deviceId, CommandType.Info, {}, { wait: false });
      expect(await commands.recordResult(deviceId, resultFor(command) as never)).toBe('recorded');
      expect(heard).toEqual(['succeeded']);
    });
  });
});
