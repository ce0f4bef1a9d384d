import { Logger } from '@nestjs/common';
import { scrypt } from 'node:crypto';
import { ErrorCode, Events, HandshakeAuthDto, validatePayload } from '@mosaic/protocol';
import { TempDirs, deviceConfig, stateStore } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { StateStore } from '../common/state-store';
import { Secret } from '../config/secret';
import { DEVICE_VERSION } from '../device-version';
import { HiveConnectionService, HiveUnavailableError } from './hive-connection.service';
import { HiveSocket, HiveSocketFactory, HiveSocketHandlers } from './hive-socket.adapter';
import { ProcessExitAdapter } from './process-exit.adapter';

const PASSPHRASE = 'correct horse battery staple';
const TOKEN = 'device-token-0123456789';
const SALT = Buffer.from('0123456789abcdef0123456789abcdef', 'hex').toString('base64'); // 16 bytes
const DEVICE_ID = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const ACCOUNT = 'c232ab00-9414-11ec-b3c8-9f6bdeced846';
const COMMAND_ID = '0b6f3c1e-2d4a-4f5b-8c7d-9e0f1a2b3c4d';

function hello(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    deviceId: DEVICE_ID,
    account: ACCOUNT,
    passphrase: { salt: SALT, set: true },
    hive: { version: '1.0.0', time: '2026-11-25T10:00:00.000Z' },
    ...overrides,
  };
}

/** docs/protocol.md §1, computed here independently: scrypt(passphrase, salt, N=131072, r=8, p=1, keylen=32). */
function expectedVerifier(passphrase: string, saltBase64: string): Promise<string> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase, Buffer.from(saltBase64, 'base64'), 32, { N: 131072, r: 8, p: 1, maxmem: 256 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key.toString('base64')),
    ),
  );
}

interface Emit {
  event: string;
  payload: unknown;
  timeoutMs: number;
  resolve(response: unknown): void;
  reject(err: Error): void;
}

/** One socket the service opened: records emits (answered by the test) and close(). */
class FakeSocket {
  readonly emits: Emit[] = [];
  closed = 0;
  private waiting: Array<(emit: Emit) => void> = [];

  constructor(
    readonly url: string,
    readonly auth: Record<string, unknown>,
    readonly handlers: HiveSocketHandlers,
  ) {}

  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const emit = { event, payload, timeoutMs, resolve, reject };
      this.emits.push(emit);
      const waiter = this.waiting.shift();
      if (waiter) waiter(emit);
    });
  }

  close(): void {
    this.closed++;
  }

  /** The next emit the service makes on this socket (the scrypt proof takes ~0.3 s of real time). */
  nextEmit(): Promise<Emit> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hive emits `name`; resolves with the device's acknowledgement, when it gives one. */
  hiveEmits(name: string, payload: unknown): Promise<unknown> {
    return new Promise((resolve) => this.handlers.event(name, payload, resolve));
  }
}

class FakeSocketFactory {
  readonly opened: FakeSocket[] = [];

  open(url: string, auth: Record<string, unknown>, handlers: HiveSocketHandlers): HiveSocket {
    const socket = new FakeSocket(url, auth, handlers);
    this.opened.push(socket);
    return strictFake<HiveSocket>(socket, 'HiveSocket');
  }

  get last(): FakeSocket {
    const socket = this.opened[this.opened.length - 1];
    if (!socket) throw new Error('the service opened no socket');
    return socket;
  }
}

describe('HiveConnectionService', () => {
  let factory: FakeSocketFactory;
  let exit: jest.Mock<void, [number, string]>;
  let service: HiveConnectionService;
  let verifier: string;
  const dirs = new TempDirs();
  let stateDir: string;
  let store: StateStore;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    verifier = await expectedVerifier(PASSPHRASE, SALT);
  });

  beforeEach(() => {
    // Only the timers: scrypt's callback and promise jobs must still run.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    jest.spyOn(Math, 'random').mockReturnValue(0.5); // neutral jitter: delays of exactly 1 s, 2 s, 4 s …
    factory = new FakeSocketFactory();
    exit = jest.fn();
    stateDir = dirs.make('state');
    service = new HiveConnectionService(
      deviceConfig({
        hiveUrl: 'https://hive.example.net',
        deviceToken: new Secret(TOKEN),
        passphrase: new Secret(PASSPHRASE),
        deviceName: 'nas',
        hiveAckTimeoutS: 7,
        stateDir,
      }),
      strictFake<HiveSocketFactory>(factory, 'HiveSocketFactory'),
      strictFake<ProcessExitAdapter>({ exit }, 'ProcessExitAdapter'),
      (store = stateStore(deviceConfig({ stateDir }))),
    );
  });

  afterEach(() => {
    service.onApplicationShutdown();
    dirs.cleanup();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** Bootstrap, receive hello, answer the proof with `ack`. */
  async function handshake(socket: () => FakeSocket, ack: unknown = { ok: true }): Promise<void> {
    const prove = socket().nextEmit();
    socket().handlers.event(Events.hello, hello());
    const emit = await prove;
    emit.resolve(ack);
  }

  function authenticatedSignal(): Promise<void> {
    return new Promise((resolve) => service.onAuthenticated(resolve));
  }

  function exitSignal(): Promise<[number, string]> {
    return new Promise((resolve) => exit.mockImplementation((status, line) => resolve([status, line])));
  }

  describe('connecting', () => {
    it('opens one socket to HIVE_URL on bootstrap with exactly the auth object of §1', () => {
      service.onApplicationBootstrap();
      expect(factory.opened).toHaveLength(1);
      expect(factory.last.url).toBe('https://hive.example.net');
      expect(factory.last.auth).toEqual({ protocol: 1, token: TOKEN, name: 'nas', version: DEVICE_VERSION });
      expect(validatePayload(HandshakeAuthDto, factory.last.auth).ok).toBe(true);
    });

    it('is not authenticated before the handshake', () => {
      service.onApplicationBootstrap();
      expect(service.authenticated).toBe(false);
    });
  });

  describe('the passphrase proof', () => {
    it('answers hello with passphrase.prove carrying the scrypt verifier, within HIVE_ACK_TIMEOUT_S', async () => {
      service.onApplicationBootstrap();
      const prove = factory.last.nextEmit();
      factory.last.handlers.event(Events.hello, hello());
      const emit = await prove;
      expect(emit.event).toBe('passphrase.prove');
      expect(emit.payload).toEqual({ verifier });
      expect(emit.timeoutMs).toBe(7000);
      expect(service.authenticated).toBe(false);
    });

    it('becomes authenticated on { ok: true }, calls every onAuthenticated listener once, and learns its id', async () => {
      const first = jest.fn();
      const second = jest.fn();
      service.onAuthenticated(first);
      service.onAuthenticated(second);
      const done = authenticatedSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last);
      await done;
      expect(service.authenticated).toBe(true);
      expect(first).toHaveBeenCalledTimes(1);
      expect(second).toHaveBeenCalledTimes(1);
      expect(service.deviceId).toBe(DEVICE_ID);
      expect(exit).not.toHaveBeenCalled();
    });

    it('remembers its id in STATE_DIR, so a restarted device knows it before Hive answers', async () => {
      const done = authenticatedSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last);
      await done;
      await store.flush();
      const config = deviceConfig({ stateDir });
      const restarted = new HiveConnectionService(
        config,
        strictFake<HiveSocketFactory>({}, 'HiveSocketFactory'),
        strictFake<ProcessExitAdapter>({}, 'ProcessExitAdapter'),
        stateStore(config),
      );
      expect(restarted.deviceId).toBe(DEVICE_ID);
    });

    it('does not authenticate on a malformed hello, sends no proof, and reconnects', async () => {
      service.onApplicationBootstrap();
      const socket = factory.last;
      socket.handlers.event(Events.hello, hello({ passphrase: { salt: 'c2hvcnQ=', set: true } })); // 5-byte salt
      await jest.advanceTimersByTimeAsync(0);
      expect(socket.emits).toEqual([]);
      expect(service.authenticated).toBe(false);
      expect(socket.closed).toBe(1);
      await jest.advanceTimersByTimeAsync(1000);
      expect(factory.opened).toHaveLength(2);
    });

    it('does not authenticate when Hive does not answer the proof, and reconnects', async () => {
      service.onApplicationBootstrap();
      const socket = factory.last;
      const prove = socket.nextEmit();
      socket.handlers.event(Events.hello, hello());
      (await prove).reject(new Error('operation has timed out'));
      await jest.advanceTimersByTimeAsync(0);
      expect(service.authenticated).toBe(false);
      expect(socket.closed).toBe(1);
      await jest.advanceTimersByTimeAsync(1000);
      expect(factory.opened).toHaveLength(2);
      expect(exit).not.toHaveBeenCalled();
    });

    it('retries, without exiting, when Hive refuses the proof with a code other than PASSPHRASE_MISMATCH', async () => {
      service.onApplicationBootstrap();
      await handshake(() => factory.last, { ok: false, error: { code: 'INTERNAL', message: 'database down' } });
      await jest.advanceTimersByTimeAsync(0);
      expect(service.authenticated).toBe(false);
      expect(factory.last.closed).toBe(1);
      await jest.advanceTimersByTimeAsync(1000);
      expect(factory.opened).toHaveLength(2);
      expect(exit).not.toHaveBeenCalled();
    });
  });

  describe('a Hive that cycles salts', () => {
    // Each new salt is a real scrypt run (128 MiB, ~0.3 s idle, seconds on a loaded machine): up to
    // five per test, so these get more than Jest's default 5 s.
    const SCRYPT_HEAVY_MS = 60_000;
    const salt = (i: number) => Buffer.alloc(16, i).toString('base64');

    /** Hello with `salt(i)` on the current socket; the proof (if one comes) is refused, so the device reconnects. */
    async function helloWith(i: number): Promise<{ proved: boolean; socket: FakeSocket }> {
      const socket = factory.last;
      const closed = new Promise<'closed'>((resolve) => (socket.close = () => resolve('closed')));
      const prove = socket.nextEmit();
      socket.handlers.event(Events.hello, hello({ passphrase: { salt: salt(i), set: true } }));
      const outcome = await Promise.race([prove, closed]);
      if (outcome !== 'closed') outcome.resolve({ ok: false, error: { code: 'INTERNAL', message: 'try again' } });
      await jest.advanceTimersByTimeAsync(60_000);
      return { proved: outcome !== 'closed', socket };
    }

    it('derives at most 3 new verifiers in 10 minutes: a fourth salt gets no proof and a reconnect, no scrypt run', async () => {
      service.onApplicationBootstrap();
      for (const i of [1, 2, 3]) expect((await helloWith(i)).proved).toBe(true);
      const opened = factory.opened.length;
      expect((await helloWith(4)).proved).toBe(false);
      expect(factory.opened).toHaveLength(opened + 1);
      // A salt it knows still costs nothing.
      expect((await helloWith(2)).proved).toBe(true);
      expect(exit).not.toHaveBeenCalled();
    }, SCRYPT_HEAVY_MS);

    it('derives new ones again once the window has moved on', async () => {
      service.onApplicationBootstrap();
      for (const i of [1, 2, 3]) await helloWith(i);
      expect((await helloWith(4)).proved).toBe(false);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      expect((await helloWith(4)).proved).toBe(true);
    }, SCRYPT_HEAVY_MS);
  });

  describe('fatal refusals: one line naming the cause, exit status 78', () => {
    it.each([
      [ErrorCode.UNAUTHORIZED, /UNAUTHORIZED.*DEVICE_TOKEN/],
      [ErrorCode.PROTOCOL_UNSUPPORTED, /PROTOCOL_UNSUPPORTED/],
    ])('connect_error with code %s', async (code, line) => {
      service.onApplicationBootstrap();
      factory.last.handlers.connectFailed('refused', { code, message: 'no' });
      expect(exit).toHaveBeenCalledTimes(1);
      expect(exit).toHaveBeenCalledWith(78, expect.stringMatching(line));
      expect(factory.last.closed).toBe(1);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      expect(factory.opened).toHaveLength(1);
    });

    it('a PASSPHRASE_MISMATCH acknowledgement of the proof', async () => {
      const exited = exitSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last, { ok: false, error: { code: 'PASSPHRASE_MISMATCH', message: 'wrong passphrase' } });
      const [status, line] = await exited;
      expect(status).toBe(78);
      expect(line).toMatch(/PASSPHRASE_MISMATCH/);
      expect(line).not.toContain(PASSPHRASE);
      expect(service.authenticated).toBe(false);
      expect(factory.last.closed).toBe(1);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      expect(factory.opened).toHaveLength(1);
    });
  });

  describe('reconnecting with back-off', () => {
    it('reconnects after 1 s, then 2 s, when the transport fails', async () => {
      service.onApplicationBootstrap();
      factory.last.handlers.connectFailed('xhr poll error', undefined);
      expect(factory.opened[0].closed).toBe(1);
      await jest.advanceTimersByTimeAsync(999);
      expect(factory.opened).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(factory.opened).toHaveLength(2);

      factory.last.handlers.connectFailed('xhr poll error', undefined);
      await jest.advanceTimersByTimeAsync(1999);
      expect(factory.opened).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(factory.opened).toHaveLength(3);
      expect(factory.last.auth).toEqual(factory.opened[0].auth);
      expect(exit).not.toHaveBeenCalled();
    });

    it('treats a refusal with any other code as a transport failure', async () => {
      service.onApplicationBootstrap();
      factory.last.handlers.connectFailed('server error', { code: 'INTERNAL', message: 'boom' });
      await jest.advanceTimersByTimeAsync(1000);
      expect(factory.opened).toHaveLength(2);
      expect(exit).not.toHaveBeenCalled();
    });

    it('after a disconnect: stops being authenticated and reconnects after 1 s again (the back-off was reset)', async () => {
      service.onApplicationBootstrap();
      factory.last.handlers.connectFailed('down', undefined);
      await jest.advanceTimersByTimeAsync(1000);
      factory.last.handlers.connectFailed('down', undefined);
      await jest.advanceTimersByTimeAsync(2000);
      expect(factory.opened).toHaveLength(3);

      const done = authenticatedSignal();
      await handshake(() => factory.last);
      await done;
      expect(service.authenticated).toBe(true);

      factory.last.handlers.disconnected('transport close');
      expect(service.authenticated).toBe(false);
      await jest.advanceTimersByTimeAsync(999);
      expect(factory.opened).toHaveLength(3);
      await jest.advanceTimersByTimeAsync(1);
      expect(factory.opened).toHaveLength(4);
    });

    it('authenticates again on the new socket and calls the listeners again', async () => {
      const listener = jest.fn();
      service.onAuthenticated(listener);
      service.onApplicationBootstrap();
      let done = authenticatedSignal();
      await handshake(() => factory.last);
      await done;
      factory.last.handlers.disconnected('ping timeout');
      await jest.advanceTimersByTimeAsync(1000);
      done = authenticatedSignal();
      await handshake(() => factory.last);
      await done;
      expect(service.authenticated).toBe(true);
      expect(listener).toHaveBeenCalledTimes(2);
    });

    it('stops reconnecting on shutdown', async () => {
      service.onApplicationBootstrap();
      factory.last.handlers.connectFailed('down', undefined);
      service.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(factory.opened).toHaveLength(1);
    });
  });

  describe('commands from Hive', () => {
    const command = { id: COMMAND_ID, type: 'SystemCommand.info', issuedAt: '2026-11-25T10:00:00.000Z', params: {} };

    it('answers NOT_AUTHENTICATED before the handshake and does not pass the command on', async () => {
      const listener = jest.fn();
      service.setCommandListener(listener);
      service.onApplicationBootstrap();
      const ack = await factory.last.hiveEmits(Events.command, command);
      expect(ack).toEqual({ id: COMMAND_ID, accepted: false, error: { code: 'NOT_AUTHENTICATED', message: expect.any(String) } });
      expect(listener).not.toHaveBeenCalled();
    });

    it.each([
      ['a number', 42, ''],
      ['an object', { evil: true }, ''],
      ['no payload at all', undefined, ''],
      ['a huge string', 'x'.repeat(100_000), 'x'.repeat(64)],
    ])(
      'answers NOT_AUTHENTICATED with an id of the ack’s shape for %s as id (a string, at most 64 characters)',
      async (_label, id, answered) => {
        service.setCommandListener(jest.fn());
        service.onApplicationBootstrap();
        const payload = id === undefined ? undefined : { ...command, id };
        const ack = await factory.last.hiveEmits(Events.command, payload);
        expect(ack).toEqual({ id: answered, accepted: false, error: { code: 'NOT_AUTHENTICATED', message: expect.any(String) } });
      },
    );

    it('answers NOT_AUTHENTICATED while the proof is still pending', async () => {
      const listener = jest.fn();
      service.setCommandListener(listener);
      service.onApplicationBootstrap();
      const prove = factory.last.nextEmit();
      factory.last.handlers.event(Events.hello, hello());
      await prove;
      const ack = await factory.last.hiveEmits(Events.command, command);
      expect(ack).toMatchObject({ accepted: false, error: { code: 'NOT_AUTHENTICATED' } });
      expect(listener).not.toHaveBeenCalled();
    });

    it('after the handshake passes each command to the listener and acknowledges with what it returns', async () => {
      const listener = jest.fn().mockReturnValue({ id: COMMAND_ID, accepted: true });
      service.setCommandListener(listener);
      const done = authenticatedSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last);
      await done;
      const ack = await factory.last.hiveEmits(Events.command, command);
      expect(listener).toHaveBeenCalledWith(command);
      expect(ack).toEqual({ id: COMMAND_ID, accepted: true });
    });

    it('waits for a listener that answers with a promise', async () => {
      service.setCommandListener(async () => ({ id: COMMAND_ID, accepted: false, error: { code: 'BUSY', message: 'busy' } }));
      const done = authenticatedSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last);
      await done;
      await expect(factory.last.hiveEmits(Events.command, command)).resolves.toEqual({
        id: COMMAND_ID,
        accepted: false,
        error: { code: 'BUSY', message: 'busy' },
      });
    });

    it('answers INTERNAL, and goes on, when the listener fails (a thrown error or a rejected promise)', async () => {
      const listener = jest
        .fn()
        .mockImplementationOnce(() => {
          throw new Error('ENOSPC: no space left on device');
        })
        .mockRejectedValueOnce(new Error('rejected'))
        .mockReturnValue({ id: COMMAND_ID, accepted: true });
      service.setCommandListener(listener);
      const done = authenticatedSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last);
      await done;
      const refused = { id: COMMAND_ID, accepted: false, error: { code: 'INTERNAL', message: 'The device could not take the command.' } };
      await expect(factory.last.hiveEmits(Events.command, command)).resolves.toEqual(refused);
      await expect(factory.last.hiveEmits(Events.command, command)).resolves.toEqual(refused);
      await expect(factory.last.hiveEmits(Events.command, command)).resolves.toEqual({ id: COMMAND_ID, accepted: true });
    });

    it('answers NOT_AUTHENTICATED again once the connection dropped', async () => {
      const listener = jest.fn();
      service.setCommandListener(listener);
      const done = authenticatedSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last);
      await done;
      const old = factory.last;
      old.handlers.disconnected('transport close');
      await jest.advanceTimersByTimeAsync(1000);
      await expect(factory.last.hiveEmits(Events.command, command)).resolves.toMatchObject({ error: { code: 'NOT_AUTHENTICATED' } });
      expect(listener).not.toHaveBeenCalled();
    });
  });

  describe('request()', () => {
    it('throws HiveUnavailableError while not authenticated, without emitting', async () => {
      service.onApplicationBootstrap();
      await expect(service.request('report.apps', {})).rejects.toBeInstanceOf(HiveUnavailableError);
      expect(factory.last.emits).toEqual([]);
    });

    it('emits with the ack timeout once authenticated and returns the acknowledgement', async () => {
      const done = authenticatedSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last);
      await done;
      const sent = factory.last.nextEmit();
      const response = service.request('report.apps', { at: 'x', apps: [] });
      const emit = await sent;
      expect(emit).toMatchObject({ event: 'report.apps', payload: { at: 'x', apps: [] }, timeoutMs: 7000 });
      emit.resolve({ ok: true });
      await expect(response).resolves.toEqual({ ok: true });
    });

    it('turns a missing acknowledgement into HiveUnavailableError', async () => {
      const done = authenticatedSignal();
      service.onApplicationBootstrap();
      await handshake(() => factory.last);
      await done;
      const sent = factory.last.nextEmit();
      const response = service.request('report.apps', {});
      (await sent).reject(new Error('operation has timed out'));
      await expect(response).rejects.toThrow(HiveUnavailableError);
      await expect(response).rejects.toThrow(/report\.apps.*timed out/);
    });
  });
});
