import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Server, Socket } from 'socket.io';
import { DEVICE_NAMESPACE, ErrorCode, Events } from '@mosaic/protocol';
import { DeviceProcess } from '../device-process';
import { EngineProbe } from '../engine';
import { IsolatedEngine } from '../isolated-engine';
import { RunningPlugin, pluginConfig, startPlugin } from '../storage-plugin';

const PASSPHRASE = 'correct horse battery staple';
const TOKEN = 'fuzz-device-token';

export interface Exchange {
  ack: unknown;
  /** The command.result, when the ack accepted the command (and it is not a duplicate). */
  result?: any;
}

/**
 * The fuzz's world: an engine of its own, the real storage plugin, a real Device process
 * (`dist/apps/device/main.js`) and a hostile Hive that is this test: a socket.io server on a free
 * port that completes the handshake of docs/protocol.md §1 and then sends whatever it is given.
 * It keeps keys as a Hive does (and never refuses a `keys.put`).
 */
export class FuzzDevice {
  readonly probe: EngineProbe;
  /** Device → Hive events other than results, by name (reports, progress, keys). */
  readonly events = new Map<string, number>();
  private socket?: Socket;
  private readonly results = new Map<string, any>();
  private readonly waiters = new Map<string, (result: any) => void>();
  private readonly keys = new Map<string, unknown[]>();
  /** Set by reconnectHoldingProof: receives the next proof's answer instead of giving it. */
  private holdProof?: (answer: () => void) => void;
  private readonly eventWaiters: Array<{ event: string; resolve: () => void }> = [];
  monitorUrl = '';

  private constructor(
    readonly engine: IsolatedEngine,
    readonly plugin: RunningPlugin,
    private readonly io: Server,
    readonly device: DeviceProcess,
    readonly appsDir: string,
  ) {
    this.probe = new EngineProbe(engine.socket);
  }

  static async start(root: string, env: Record<string, string> = {}): Promise<FuzzDevice> {
    const engine = await IsolatedEngine.start();
    const plugin = await startPlugin(
      pluginConfig(join(root, 'plugin'), {
        DOCKER_PLUGIN_DIR: engine.pluginDir,
        STORAGE_DRIVER: `mosaic-fuzz-${randomBytes(3).toString('hex')}`,
      }),
    );
    const http = createServer();
    const io = new Server(http, { maxHttpBufferSize: 8 * 1024 * 1024, serveClient: false });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const appsDir = join(root, 'apps');
    const made: { fuzz?: FuzzDevice } = {};
    const authenticated = new Promise<void>((resolve) => {
      io.of(DEVICE_NAMESPACE).on('connection', (socket) => made.fuzz!.connected(socket, resolve));
    });
    const device = new DeviceProcess({
      HIVE_URL: url,
      DEVICE_TOKEN: TOKEN,
      DEVICE_PASSPHRASE: PASSPHRASE,
      DEVICE_NAME: 'fuzz',
      DOCKER_HOST: `unix://${engine.socket}`,
      STORAGE_DRIVER: plugin.config.driver,
      STORAGE_PLUGIN_SOCKET: plugin.config.controlSocket,
      APPS_DIR: appsDir,
      STATE_DIR: join(root, 'state'),
      VOLUMES_DIR: plugin.config.dataDir,
      LOG_LEVEL: 'log',
      ...env,
    });
    const fuzz = (made.fuzz = new FuzzDevice(engine, plugin, io, device, appsDir));
    await Promise.race([
      // The device takes commands once it has read the proof's ack, which it says in this line.
      authenticated.then(() => device.waitForLine(/authenticated as device/)),
      device.exited.then((code) => Promise.reject(new Error(`the device exited with ${code}:\n${device.output().slice(-3000)}`))),
    ]);
    fuzz.monitorUrl = await device.monitorUrl();
    return fuzz;
  }

  /** The handshake of §1 as a Hive that accepts this device, then every Device → Hive event acknowledged. */
  private connected(socket: Socket, authenticated: () => void): void {
    const auth = socket.handshake.auth as { token?: unknown };
    if (auth.token !== TOKEN) {
      socket.disconnect(true);
      return;
    }
    this.socket = socket;
    socket.on(Events.passphraseProve, (_payload: unknown, ack?: (r: unknown) => void) => {
      const answer = () => {
        ack?.({ ok: true });
        authenticated();
      };
      const hold = this.holdProof;
      this.holdProof = undefined;
      if (hold) hold(answer);
      else answer();
    });
    socket.on(Events.commandResult, (payload: any, ack?: (r: unknown) => void) => {
      ack?.({ ok: true });
      const id = payload?.id;
      if (typeof id !== 'string' || this.results.has(id)) return;
      this.results.set(id, payload);
      this.waiters.get(id)?.(payload);
      this.waiters.delete(id);
    });
    socket.on(Events.keysPut, (payload: any, ack?: (r: unknown) => void) => {
      this.count(Events.keysPut);
      if (!this.keys.has(payload.instance)) this.keys.set(payload.instance, payload.keys);
      ack?.({ ok: true });
    });
    socket.on(Events.keysGet, (payload: any, ack?: (r: unknown) => void) => {
      this.count(Events.keysGet);
      const keys = this.keys.get(payload.instance);
      ack?.(keys ? { ok: true, keys } : { ok: false, error: { code: ErrorCode.NOT_FOUND, message: 'No keys for this instance.' } });
    });
    socket.onAny((event: string, ...args: unknown[]) => {
      if (![Events.commandResult, Events.keysGet, Events.keysPut, Events.passphraseProve].includes(event as never)) this.count(event);
      const ack = args[args.length - 1];
      if (
        typeof ack === 'function' &&
        [Events.commandProgress, Events.reportApps, Events.reportVolumes, Events.reportVersion].includes(event as never)
      )
        ack({ ok: true });
    });
    socket.emit(Events.hello, {
      deviceId: randomUUID(),
      account: randomUUID(),
      passphrase: { salt: randomBytes(16).toString('base64'), set: true },
      hive: { version: 'fuzz-hive', time: new Date().toISOString() },
    });
  }

  private count(event: string): void {
    this.events.set(event, (this.events.get(event) ?? 0) + 1);
    for (const waiter of this.eventWaiters.splice(0)) {
      if (waiter.event === event) waiter.resolve();
      else this.eventWaiters.push(waiter);
    }
  }

  /**
   * Drops the link and lets the device connect again, holding the acknowledgement of its next
   * proof: until `release()` the device is connected but not authenticated (§1), which is what
   * commands sent meanwhile meet. `release()` resolves once the device reported again.
   */
  async reconnectHoldingProof(): Promise<{ release(): Promise<void> }> {
    const held = new Promise<() => void>((resolve) => (this.holdProof = resolve));
    this.socket?.disconnect(true);
    const answer = await held;
    return {
      release: async () => {
        const reported = new Promise<void>((resolve) => this.eventWaiters.push({ event: Events.reportApps, resolve }));
        answer();
        await reported;
      },
    };
  }

  /**
   * Sends `envelope` as a `command` and waits for the ack and, when accepted, the command.result:
   * each within `deadlineMs` (a device that does not answer in time fails the property).
   */
  async send(envelope: unknown, deadlineMs = 10_000): Promise<Exchange> {
    if (!this.socket?.connected) throw new Error(`the device is not connected (its process ${this.device.running ? 'runs' : 'ended'})`);
    const ack = (await this.socket.timeout(deadlineMs).emitWithAck(Events.command, envelope)) as any;
    if (!ack?.accepted || ack.duplicate) return { ack };
    return { ack, result: await this.result(ack.id, deadlineMs) };
  }

  private result(id: string, deadlineMs: number): Promise<any> {
    if (this.results.has(id)) return Promise.resolve(this.results.get(id));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`no command.result for ${id} within ${deadlineMs} ms`));
      }, deadlineMs);
      this.waiters.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
    });
  }

  /** GET /health of the device's monitor: its status and body. */
  async health(): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.monitorUrl}/health`);
    return { status: response.status, body: await response.json() };
  }

  async close(): Promise<void> {
    await this.device.stop();
    this.io.close();
    await this.plugin.close();
    await this.engine.stop();
  }
}
