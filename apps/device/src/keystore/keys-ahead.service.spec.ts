import { Logger } from '@nestjs/common';
import { ErrorCode, Events, ProtocolException } from '@mosaic/protocol';
import { deviceConfig } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { HiveConnectionService, HiveUnavailableError } from '../hive/hive-connection.service';
import { KeysAheadService } from './keys-ahead.service';
import { InstanceKeys, KeystoreService } from './keystore.service';

const ONE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const TWO = '9b2e4f6a-1c3d-4e5f-8a7b-6c5d4e3f2a1b';
const THREE = '0d7e3b1a-5f2c-4a9e-b8d6-2c4e6a8b0d1f';

/** Hive's side of keys.list, and the handshake listeners the device registers. */
class FakeHive {
  authenticated = true;
  answer: unknown = { ok: true, instances: [] };
  /** Thrown instead of answering (no acknowledgement). */
  silent = false;
  readonly asked: unknown[] = [];
  private readonly listeners: Array<() => void> = [];

  onAuthenticated(listener: () => void): void {
    this.listeners.push(listener);
  }

  handshake(): void {
    for (const listener of this.listeners) listener();
  }

  async request(event: string, payload: unknown): Promise<unknown> {
    if (event !== Events.keysList) throw new Error(`FakeHive: unexpected event ${event}`);
    this.asked.push(payload);
    if (this.silent) throw new HiveUnavailableError('Hive did not acknowledge keys.list: operation has timed out');
    return this.answer;
  }
}

/** The keystore's two calls the service makes; an open of each instance takes until the test lets it go. */
class FakeKeystore {
  readonly opened: string[] = [];
  readonly held = new Set<string>();
  readonly refuse = new Map<string, ProtocolException>();
  /** While set, each open waits on it: the test sees which one runs. */
  gate: Promise<void> = Promise.resolve();
  running = 0;
  mostAtOnce = 0;

  readonly forgotten: string[] = [];
  /** Instances a command asked for. */
  readonly commands = new Set<string>();

  forget(instance: string): void {
    this.held.delete(instance);
    this.forgotten.push(instance);
  }

  neededByCommands(instance: string): boolean {
    return this.commands.has(instance);
  }

  cached(instance: string): InstanceKeys | undefined {
    return this.held.has(instance) ? ({} as InstanceKeys) : undefined;
  }

  async keysFor(instance: string, options: { failover: boolean; background?: boolean }): Promise<InstanceKeys> {
    if (!options.failover) throw new Error('keys ahead must never create keys');
    if (!options.background) throw new Error('keys ahead must open keys in the background');
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    try {
      await this.gate;
      this.opened.push(instance);
      const refusal = this.refuse.get(instance);
      if (refusal) throw refusal;
      this.held.add(instance);
      return {} as InstanceKeys;
    } finally {
      this.running--;
    }
  }
}

describe('KeysAheadService (§3 keys.list)', () => {
  let hive: FakeHive;
  let keystore: FakeKeystore;
  let service: KeysAheadService;
  const warnings: string[] = [];

  function start(keysAhead = 100): KeysAheadService {
    const made = new KeysAheadService(
      deviceConfig({ keysAhead }),
      strictFake<KeystoreService>(keystore, 'KeystoreService'),
      strictFake<HiveConnectionService>(hive, 'HiveConnectionService'),
    );
    made.onApplicationBootstrap();
    return made;
  }

  beforeEach(() => {
    hive = new FakeHive();
    keystore = new FakeKeystore();
    warnings.length = 0;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    service?.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  it('after a handshake, opens the keys of the listed instances it does not hold, one at a time, never making keys', async () => {
    hive.answer = { ok: true, instances: [ONE, TWO, THREE] };
    keystore.held.add(TWO);
    service = start();
    hive.handshake();
    await service.refresh();
    expect(warnings).toEqual([]);
    expect(hive.asked).toEqual([{}]);
    expect(keystore.opened).toEqual([ONE, THREE]);
    expect(keystore.mostAtOnce).toBe(1);

    // The next pass asks again and opens only what is new.
    hive.answer = { ok: true, instances: [ONE, TWO, THREE, '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d'] };
    await service.refresh();
    expect(keystore.opened).toEqual([ONE, THREE, '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d']);
  });

  it('opens at most KEYS_AHEAD instances, and nothing with KEYS_AHEAD=0 (not even asking)', async () => {
    hive.answer = { ok: true, instances: [ONE, TWO, THREE] };
    service = start(2);
    await service.refresh();
    expect(keystore.opened).toEqual([ONE, TWO]);

    service.onApplicationShutdown();
    hive = new FakeHive();
    hive.answer = { ok: true, instances: [THREE] };
    keystore = new FakeKeystore();
    service = start(0);
    hive.handshake();
    await service.refresh();
    expect(hive.asked).toEqual([]);
    expect(keystore.opened).toEqual([]);
  });

  it("forgets the keys it opened once Hive no longer lists them, but not those a command asked for, nor others' keys", async () => {
    hive.answer = { ok: true, instances: [ONE, TWO, THREE] };
    keystore.held.add('5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d'); // the keys of an app of this device
    service = start();
    await service.refresh();
    expect(keystore.opened).toEqual([ONE, TWO, THREE]);

    // ONE was removed; TWO moved here (its start asked for the keys); THREE stays elsewhere.
    keystore.commands.add(TWO);
    hive.answer = { ok: true, instances: [THREE] };
    await service.refresh();
    expect(keystore.forgotten).toEqual([ONE]);
    expect([...keystore.held].sort()).toEqual(['5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d', THREE, TWO].sort());
  });

  it('holds at most KEYS_AHEAD instances opened ahead, however often Hive lists new ones', async () => {
    const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    service = start(2);
    for (let round = 0; round < 5; round++) {
      hive.answer = { ok: true, instances: [uuid(2 * round), uuid(2 * round + 1), uuid(100 + round)] };
      await service.refresh();
      expect(keystore.held.size).toBeLessThanOrEqual(2);
    }
    expect(keystore.opened).toHaveLength(10);
  });

  it('joins a pass under way instead of starting another', async () => {
    hive.answer = { ok: true, instances: [ONE] };
    let release!: () => void;
    keystore.gate = new Promise((resolve) => (release = resolve));
    service = start();
    const first = service.refresh();
    const second = service.refresh();
    release();
    await Promise.all([first, second]);
    expect(hive.asked).toHaveLength(1);
    expect(keystore.opened).toEqual([ONE]);
  });

  it.each([
    ['answers UNKNOWN_EVENT (a Hive without keys.list)', { ok: false, error: { code: 'UNKNOWN_EVENT', message: 'Hive does not handle the event "keys.list".' } }],
    ['answers ok without instances', { ok: true }],
    ['names something that is not an instance', { ok: true, instances: ['../../etc/passwd'] }],
    ['names more than 1,000', { ok: true, instances: Array.from({ length: 1001 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) }],
  ])('stops asking until the next handshake when Hive %s', async (_what, answer) => {
    hive.answer = answer;
    service = start();
    await service.refresh();
    await service.refresh();
    expect(hive.asked).toHaveLength(1);
    expect(keystore.opened).toEqual([]);

    hive.answer = { ok: true, instances: [ONE] };
    hive.handshake();
    await service.refresh();
    expect(keystore.opened).toEqual([ONE]);
  });

  it('stops asking until the next handshake when Hive does not acknowledge, and says so', async () => {
    hive.silent = true;
    service = start();
    await service.refresh();
    await service.refresh();
    expect(hive.asked).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/^Hive did not answer keys\.list \(.*timed out\); keys are opened when a command needs them$/)]);
  });

  it('says once which keys did not open, goes on with the others, and tries those again after the next handshake', async () => {
    hive.answer = { ok: true, instances: [ONE, TWO] };
    keystore.refuse.set(ONE, new ProtocolException(ErrorCode.PASSPHRASE_MISMATCH, `The app key of instance ${ONE} does not open with this device's passphrase.`));
    service = start();
    await service.refresh();
    await service.refresh();
    expect(keystore.opened).toEqual([ONE, TWO]);
    expect(warnings).toEqual([`the keys of instance ${ONE} were not opened ahead: The app key of instance ${ONE} does not open with this device's passphrase.`]);

    keystore.refuse.delete(ONE);
    hive.handshake();
    await service.refresh();
    expect(keystore.opened).toEqual([ONE, TWO, ONE]);
    expect(keystore.held.has(ONE)).toBe(true);
  });

  it('asks nothing while the link to Hive is down, and stops a pass when it goes down', async () => {
    hive.authenticated = false;
    service = start();
    await service.refresh();
    expect(hive.asked).toEqual([]);

    hive.authenticated = true;
    hive.answer = { ok: true, instances: [ONE, TWO] };
    let release!: () => void;
    keystore.gate = new Promise((resolve) => (release = resolve));
    const pass = service.refresh();
    await new Promise((resolve) => setImmediate(resolve));
    hive.authenticated = false;
    release();
    await pass;
    expect(keystore.opened).toEqual([ONE]);
  });
});
