import { Logger } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempDirs, deviceConfig, stateStore } from '../../../../test/support/device-fixtures';
import { StateStore } from '../common/state-store';
import { strictFake } from '../../../../test/support/strict-fake';
import { HiveConnectionService, HiveUnavailableError } from './hive-connection.service';
import { OutboxService } from './outbox.service';

interface Sent {
  event: string;
  payload: unknown;
  resolve(response: unknown): void;
  reject(err: Error): void;
}

/** The part of HiveConnectionService the outbox uses; the test plays Hive's acknowledgements. */
class FakeHive {
  authenticated = false;
  readonly sent: Sent[] = [];
  private readonly listeners: Array<() => void> = [];
  private readonly waiting: Array<(sent: Sent) => void> = [];

  onAuthenticated(listener: () => void): void {
    this.listeners.push(listener);
  }

  request(event: string, payload: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const sent = { event, payload, resolve, reject };
      this.sent.push(sent);
      this.waiting.shift()?.(sent);
    });
  }

  /** The next request; already made ones are not returned again. */
  nextRequest(): Promise<Sent> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  authenticate(): void {
    this.authenticated = true;
    for (const listener of this.listeners) listener();
  }

  drop(): void {
    this.authenticated = false;
  }
}

const OK = { ok: true };

/** Lets every pending promise job run (one turn of the event loop; not a sleep). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const apps = (n: number) => ({ at: `2026-11-25T10:00:0${n}.000Z`, apps: [] });
const result = (id: string) => ({ id, type: 'SystemCommand.info', ok: true, result: {}, finishedAt: '2026-11-25T10:00:00.000Z' });
const RESULT_A = '11111111-1111-4111-8111-111111111111';
const RESULT_B = '22222222-2222-4222-8222-222222222222';

describe('OutboxService', () => {
  const dirs = new TempDirs();
  let stateDir: string;
  let hive: FakeHive;
  let store: StateStore;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    stateDir = dirs.make();
    hive = new FakeHive();
  });
  afterEach(() => dirs.cleanup());

  function outbox(over: FakeHive = hive): OutboxService {
    store = stateStore(deviceConfig({ stateDir }));
    const service = new OutboxService(
      store,
      strictFake<HiveConnectionService>(over, 'HiveConnectionService'),
    );
    service.onModuleInit();
    return service;
  }

  /** What is on disk, as [event, payload] pairs in order. */
  async function onDisk(): Promise<Array<[string, unknown]>> {
    await store.flush();
    const path = join(stateDir, 'outbox.json');
    if (!existsSync(path)) return [];
    return (JSON.parse(readFileSync(path, 'utf8')) as Array<{ event: string; payload: unknown }>).map((e) => [e.event, e.payload]);
  }

  describe('while Hive is not there', () => {
    it('keeps reports and results in STATE_DIR/outbox.json without sending them', async () => {
      const box = outbox();
      await box.sendReport('report.apps', apps(1));
      await box.sendResult('command.result', RESULT_A, result(RESULT_A));
      expect(hive.sent).toEqual([]);
      expect(box.depth).toBe(2);
      expect(await onDisk()).toEqual([
        ['report.apps', apps(1)],
        ['command.result', result(RESULT_A)],
      ]);
    });

    it('leaves them for a new OutboxService over the same STATE_DIR (a restart)', async () => {
      const before = outbox();
      await before.sendReport('report.volumes', { at: 'x', volumes: [] });
      await before.sendResult('command.result', RESULT_A, result(RESULT_A));
      await store.flush();

      const afterHive = new FakeHive();
      const after = outbox(afterHive);
      expect(after.depth).toBe(2);
      const next = afterHive.nextRequest();
      afterHive.authenticate();
      const first = await next;
      expect([first.event, first.payload]).toEqual(['report.volumes', { at: 'x', volumes: [] }]);
    });

    it('keeps only the newest report of each kind', async () => {
      const box = outbox();
      await box.sendReport('report.apps', apps(1));
      await box.sendReport('report.volumes', { at: 'v', volumes: [] });
      await box.sendReport('report.apps', apps(2));
      expect(box.depth).toBe(2);
      expect(await onDisk()).toEqual([
        ['report.volumes', { at: 'v', volumes: [] }],
        ['report.apps', apps(2)],
      ]);
    });

    it('keeps every command result, one per id', async () => {
      const box = outbox();
      await box.sendResult('command.result', RESULT_A, result(RESULT_A));
      await box.sendResult('command.result', RESULT_B, result(RESULT_B));
      expect((await onDisk()).map(([, p]) => (p as { id: string }).id)).toEqual([RESULT_A, RESULT_B]);
    });

    it('starts empty when there is no outbox file yet', () => {
      expect(outbox().depth).toBe(0);
    });
  });

  describe('after the handshake', () => {
    it('sends everything in order, removing each message only once Hive acknowledged it', async () => {
      const box = outbox();
      await box.sendReport('report.apps', apps(1));
      await box.sendReport('report.volumes', { at: 'v', volumes: [] });
      await box.sendResult('command.result', RESULT_A, result(RESULT_A));

      const first = hive.nextRequest();
      hive.authenticate();
      const one = await first;
      expect(one.event).toBe('report.apps');
      expect(hive.sent).toHaveLength(1); // one at a time
      expect(await onDisk()).toHaveLength(3); // not removed before the acknowledgement

      const second = hive.nextRequest();
      one.resolve(OK);
      const two = await second;
      expect(two.event).toBe('report.volumes');
      expect((await onDisk()).map(([event]) => event)).toEqual(['report.volumes', 'command.result']);

      const third = hive.nextRequest();
      two.resolve(OK);
      const three = await third;
      expect([three.event, three.payload]).toEqual(['command.result', result(RESULT_A)]);
      expect(await onDisk()).toHaveLength(1);

      three.resolve(OK);
      await settle();
      expect(await onDisk()).toEqual([]);
      expect(box.depth).toBe(0);
    });

    it('sends a new message at once when Hive is there', async () => {
      const box = outbox();
      hive.authenticate();
      const next = hive.nextRequest();
      const done = box.sendReport('report.apps', apps(3));
      const sent = await next;
      expect([sent.event, sent.payload]).toEqual(['report.apps', apps(3)]);
      sent.resolve(OK);
      await done;
      expect(box.depth).toBe(0);
    });

    it('delivers a message queued while another is on its way, after it', async () => {
      const box = outbox();
      hive.authenticate();
      const first = hive.nextRequest();
      void box.sendReport('report.apps', apps(1));
      const one = await first;
      const second = hive.nextRequest();
      void box.sendResult('command.result', RESULT_A, result(RESULT_A));
      one.resolve(OK);
      const two = await second;
      expect(two.event).toBe('command.result');
      two.resolve(OK);
      await settle();
      expect(hive.sent).toHaveLength(2);
      expect(box.depth).toBe(0);
    });

    it('keeps a result that Hive did not acknowledge (HiveUnavailableError) and stops there', async () => {
      const box = outbox();
      await box.sendResult('command.result', RESULT_A, result(RESULT_A));
      await box.sendReport('report.apps', apps(1));
      const first = hive.nextRequest();
      hive.authenticate();
      (await first).reject(new HiveUnavailableError('Hive did not acknowledge command.result: timeout'));
      await settle();
      expect(hive.sent).toHaveLength(1); // the report behind it waits too
      expect(box.depth).toBe(2);
      expect((await onDisk()).map(([event]) => event)).toEqual(['command.result', 'report.apps']);
    });

    it('sends a kept result again after the next handshake, and only then forgets it', async () => {
      const box = outbox();
      await box.sendResult('command.result', RESULT_A, result(RESULT_A));
      let next = hive.nextRequest();
      hive.authenticate();
      (await next).reject(new HiveUnavailableError());
      await settle();
      expect(box.depth).toBe(1);
      hive.drop();

      next = hive.nextRequest();
      hive.authenticate();
      const again = await next;
      expect([again.event, again.payload]).toEqual(['command.result', result(RESULT_A)]);
      again.resolve(OK);
      await settle();
      expect(await onDisk()).toEqual([]);
    });

    it('keeps the message when Hive answers NOT_AUTHENTICATED', async () => {
      const box = outbox();
      await box.sendResult('command.result', RESULT_A, result(RESULT_A));
      const next = hive.nextRequest();
      hive.authenticate();
      (await next).resolve({ ok: false, error: { code: 'NOT_AUTHENTICATED', message: 'handshake first' } });
      await settle();
      expect(hive.sent).toHaveLength(1);
      expect(box.depth).toBe(1);
      expect(await onDisk()).toHaveLength(1);
    });

    it('keeps the message, and those behind it, when Hive answers a retryable INTERNAL (its database away), and sends them at the next flush', async () => {
      const box = outbox();
      await box.sendResult('command.result', RESULT_A, result(RESULT_A));
      await box.sendReport('report.apps', apps(1));
      const first = hive.nextRequest();
      hive.authenticate();
      (await first).resolve({ ok: false, error: { code: 'INTERNAL', message: "Hive's database is unavailable", details: { retryable: true } } });
      await settle();
      expect(hive.sent).toHaveLength(1);
      expect((await onDisk()).map(([event]) => event)).toEqual(['command.result', 'report.apps']);

      // The next report flushes the outbox: the result goes first, and now the Hive takes it.
      const again = hive.nextRequest();
      const flushed = box.sendReport('report.apps', apps(2));
      const retried = await again;
      expect([retried.event, retried.payload]).toEqual(['command.result', result(RESULT_A)]);
      const report = hive.nextRequest();
      retried.resolve(OK);
      const sentReport = await report;
      expect(sentReport.payload).toEqual(apps(2));
      sentReport.resolve(OK);
      await flushed;
      expect(box.depth).toBe(0);
    });

    it('drops a message Hive refused (INVALID_PARAMS) and goes on with the next', async () => {
      const box = outbox();
      await box.sendReport('report.apps', apps(1));
      await box.sendResult('command.result', RESULT_A, result(RESULT_A));
      const first = hive.nextRequest();
      hive.authenticate();
      const refused = await first;
      const second = hive.nextRequest();
      refused.resolve({ ok: false, error: { code: 'INVALID_PARAMS', message: 'bad report', details: [] } });
      const next = await second;
      expect(next.event).toBe('command.result');
      expect((await onDisk()).map(([event]) => event)).toEqual(['command.result']);
      next.resolve(OK);
      await settle();
      expect(box.depth).toBe(0);
    });

    it('tells its listeners of each message the Hive acknowledged, and of no other', async () => {
      const box = outbox();
      const delivered: Array<[string, unknown]> = [];
      box.onDelivered((event, payload) => delivered.push([event, payload]));
      box.onDelivered(() => {
        throw new Error('a broken listener does not stop the outbox');
      });
      await box.sendReport('report.apps', apps(1));
      await box.sendReport('report.version', { at: 'v', version: '0.2.0', autoUpdate: true });
      const first = hive.nextRequest();
      hive.authenticate();
      const refused = await first;
      const second = hive.nextRequest();
      refused.resolve({ ok: false, error: { code: 'INVALID_PARAMS', message: 'bad report', details: [] } });
      (await second).resolve(OK);
      await settle();
      expect(delivered).toEqual([['report.version', { at: 'v', version: '0.2.0', autoUpdate: true }]]);
      expect(box.depth).toBe(0);
    });

    it('stops sending when the connection drops between two messages', async () => {
      const box = outbox();
      await box.sendReport('report.apps', apps(1));
      await box.sendReport('report.volumes', { at: 'v', volumes: [] });
      const first = hive.nextRequest();
      hive.authenticate();
      const one = await first;
      hive.drop();
      one.resolve(OK);
      await settle();
      expect(hive.sent).toHaveLength(1);
      expect((await onDisk()).map(([event]) => event)).toEqual(['report.volumes']);
    });
  });
});
