import { Test, TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, Events } from '@mosaic/protocol';
import { CommandIntakeService } from '../../apps/device/src/commands/command-intake.service';
import { DeviceConfig } from '../../apps/device/src/config/device-config';
import { loadDeviceConfig } from '../../apps/device/src/config/load-device-config';
import { DeviceModule } from '../../apps/device/src/device.module';
import { HiveConnectionService } from '../../apps/device/src/hive/hive-connection.service';
import { MonitorRoutes, MonitorServer } from '../../apps/device/src/monitor/monitor-server';

/** Small Argon2 parameters, allowed only because a test builds this config itself. */
export const TEST_ARGON2 = { passes: 1, parallelism: 1, memoryExponent: 10 };

/**
 * A Device config for the folders under `root`, built the way the device builds its own; `env`
 * adds settings as the environment gives them, `overrides` replaces fields of the result.
 */
export function testDeviceConfig(root: string, overrides: Partial<DeviceConfig> = {}, env: Record<string, string> = {}): DeviceConfig {
  const loaded = loadDeviceConfig({
    HIVE_URL: 'http://127.0.0.1:9',
    DEVICE_TOKEN: 'test-token',
    DEVICE_PASSPHRASE: 'correct horse battery staple',
    DEVICE_NAME: 'test-device',
    APPS_DIR: join(root, 'apps'),
    STATE_DIR: join(root, 'state'),
    VOLUMES_DIR: join(root, 'volumes'),
    DOCKER_HOST: process.env.DOCKER_HOST,
    STORAGE_PLUGIN_SOCKET: join(root, 'storage.sock'),
    STORAGE_PLUGIN_WAIT_S: '10',
    REPORT_APPS_INTERVAL_S: '3600',
    REPORT_VOLUMES_INTERVAL_S: '3600',
    HIVE_ACK_TIMEOUT_S: '5',
    LOG_LEVEL: 'warn',
    MONITOR_ADDRESS: '127.0.0.1:0',
    ...env,
  });
  if (!loaded.ok) throw new Error(`the test config does not load:\n${loaded.errors.join('\n')}`);
  return { ...loaded.config, argon2: TEST_ARGON2, ...overrides };
}

interface Emitted {
  event: string;
  payload: any;
  /** When it was emitted (performance.now()), for the benches' breakdowns. */
  at: number;
}

/**
 * Stands in for the Hive connection in integration tests of the device's own modules: it keeps
 * keys like Hive does and records every emitted event. Only what HiveConnectionService offers.
 */
export class RecordingHive {
  readonly emitted: Emitted[] = [];
  readonly keys = new Map<string, unknown[]>();
  connected = true;
  authenticated = true;
  /** The id Hive would have given the device in `hello`. */
  deviceId = randomUUID();
  private commandListener?: (payload: unknown) => unknown;
  private readonly waiters: Array<{ test: (e: Emitted) => boolean; resolve: (e: Emitted) => void }> = [];

  onAuthenticated(): void {}

  setCommandListener(listener: (payload: unknown) => unknown): void {
    this.commandListener = listener;
  }

  send(payload: unknown): unknown {
    if (!this.commandListener) throw new Error('no command listener registered');
    return this.commandListener(payload);
  }

  async request(event: string, payload: any): Promise<unknown> {
    const entry = { event, payload, at: performance.now() };
    this.emitted.push(entry);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(entry)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
    if (event === Events.keysPut) {
      if (this.keys.has(payload.instance)) return { ok: false, error: { code: ErrorCode.KEYS_EXIST, message: 'exists' } };
      this.keys.set(payload.instance, payload.keys);
      return { ok: true };
    }
    if (event === Events.keysGet) {
      const keys = this.keys.get(payload.instance);
      return keys ? { ok: true, keys } : { ok: false, error: { code: ErrorCode.NOT_FOUND, message: 'no keys' } };
    }
    if (event === Events.keysList) return { ok: true, instances: [...this.keys.keys()] };
    return { ok: true };
  }

  /** The next emitted event that passes `test`, including one already emitted since `from`. */
  next(test: (e: Emitted) => boolean, from = 0): Promise<Emitted> {
    const seen = this.emitted.slice(from).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

export interface RunningDevice {
  module: TestingModule;
  hive: RecordingHive;
  config: DeviceConfig;
  /** http://127.0.0.1:<port> of /health and /metrics (config.monitor), if on. */
  monitorUrl?: string;
  /** Sends a command as Hive would and resolves with its ack and its command.result. */
  command(type: string, params: object): Promise<{ ack: any; result: any }>;
  close(): Promise<void>;
}

/** A real Device in-process (real engine, compose, files) behind a RecordingHive. */
export async function startDevice(config: DeviceConfig, hive = new RecordingHive()): Promise<RunningDevice> {
  const module = await Test.createTestingModule({ imports: [DeviceModule.forRoot(config)] })
    .overrideProvider(HiveConnectionService)
    .useValue(hive)
    .compile();
  module.useLogger(['error', 'warn']);
  // The HTTP side (health, metrics) as main.ts serves it, on a free port.
  // The testing module is itself an application context, like main.ts's.
  await module.init();
  let monitorUrl: string | undefined;
  let monitor: MonitorServer | undefined;
  if (config.monitor) {
    monitor = new MonitorServer();
    const server = monitor.server;
    await new Promise<void>((resolve) => server.listen(config.monitor!.port, config.monitor!.host, resolve));
    monitor.serve(module.get(MonitorRoutes));
    monitorUrl = `http://${config.monitor.host}:${(server.address() as AddressInfo).port}`;
  }
  const intake = module.get(CommandIntakeService);
  return {
    module,
    hive,
    config,
    monitorUrl,
    async command(type, params) {
      const id = randomUUID();
      const from = hive.emitted.length;
      const ack = hive.send({ id, type, issuedAt: new Date().toISOString(), params }) as any;
      if (!ack.accepted || ack.duplicate) return { ack, result: undefined };
      const result = await hive.next((e) => e.event === Events.commandResult && e.payload.id === id, from);
      return { ack, result: result.payload };
    },
    async close() {
      await intake.idle();
      await monitor?.close();
      await module.close();
    },
  };
}

export function tempRoot(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `mosaic-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
