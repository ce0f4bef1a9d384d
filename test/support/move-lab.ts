import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HiveOptions } from '../../apps/hive/src/config/hive-config';
import type { TestHive } from '../../apps/hive/src/testing/test-hive';
import { tempRoot } from './device-harness';
import { DeviceProcess } from './device-process';
import { machineDeviceSettings, startE2eHive } from './e2e-hive';
import { eventually } from './eventually';
import { IsolatedEngine } from './isolated-engine';
import { RestServer } from './rest-server';
import { RunningPlugin, pluginConfig, startPlugin } from './storage-plugin';
import { TcpProxy } from './tcp-proxy';

/**
 * One machine: its own engine, its own storage plugin (driver `mosaic`), and a Device process the
 * test can stop, kill and start again; its plugin reaches the replica store through `proxy` when
 * it was asked for one (to cut or stall the store for this machine alone).
 */
export interface Machine {
  id: string;
  name: string;
  engine: IsolatedEngine;
  plugin: RunningPlugin;
  env: Record<string, string>;
  device: DeviceProcess;
  proxy?: TcpProxy;
}

export interface MachineOptions {
  /** The plugin reaches the store through a TcpProxy of its own. */
  proxy?: boolean;
  /** More plugin settings (RESTIC_STALL_TIMEOUT_S…). */
  pluginEnv?: Record<string, string>;
}

/** The Hive the lab's Devices connect to (`url`) and its REST API with the admin token. */
export type LabHive = Pick<TestHive, 'url' | 'api'>;

/**
 * What the move e2e tests share (docs/architecture.md "Move / failover"): one Hive (in-process, or one
 * the test runs: startWith), one replica store (a restic REST server), and machines of two real engines, plugins and Device
 * processes each; helpers for the Hive's REST API the way a user drives a move.
 */
export class MoveLab {
  readonly root: { path: string; remove(): void };
  readonly store: RestServer;
  hive!: LabHive;
  /** Whether the lab started the Hive (and so stops it). */
  private ownsHive = false;
  private readonly machines: Machine[] = [];

  constructor(label: string) {
    this.root = tempRoot(label);
    this.store = new RestServer(join(this.root.path, 'store'));
  }

  /** The store and the Hive; `hiveOptions` sets more of its configuration (commandTimeoutS: the moves' grace). */
  async start(hiveOptions: Partial<HiveOptions> = {}): Promise<void> {
    await this.startStore();
    this.hive = await startE2eHive(join(this.root.path, 'hive.db'), undefined, undefined, hiveOptions);
    this.ownsHive = true;
  }

  /** The store, and a Hive the test runs itself (Hive processes behind HAProxy): the lab does not stop it. */
  async startWith(hive: LabHive): Promise<void> {
    await this.startStore();
    this.hive = hive;
  }

  private async startStore(): Promise<void> {
    mkdirSync(join(this.root.path, 'store'), { recursive: true });
    await this.store.start();
  }

  async machine(name: string, options: MachineOptions = {}): Promise<Machine> {
    const dir = join(this.root.path, name);
    let proxy: TcpProxy | undefined;
    if (options.proxy) {
      proxy = new TcpProxy(this.store.port);
      await proxy.start();
    }
    const replicaUrl = proxy ? `rest:http://127.0.0.1:${proxy.port}/` : this.store.url;
    const engine = await IsolatedEngine.start();
    const plugin = await startPlugin(pluginConfig(dir, { DOCKER_PLUGIN_DIR: engine.pluginDir, REPLICA_URL: replicaUrl, ...options.pluginEnv }));
    const created = await this.hive.api.post('/api/devices', { name });
    const env = machineDeviceSettings(this.hive, created.body.token, name, dir, engine, plugin);
    const machine: Machine = { id: created.body.id, name, engine, plugin, env, device: new DeviceProcess(env), ...(proxy && { proxy }) };
    this.machines.push(machine);
    await machine.device.waitForLine(/authenticated as device/);
    return machine;
  }

  /** A new Device process for the machine (its old one ended), once the Hive authenticated it. */
  async restartDevice(m: Machine): Promise<void> {
    if (m.device.running) throw new Error(`the Device of ${m.name} still runs`);
    m.device = new DeviceProcess(m.env);
    await m.device.waitForLine(/authenticated as device/);
  }

  /** SIGKILL: the Device ends without its shutdown (a crash, a power cut of its container); resolves once it exited. */
  async killDevice(m: Machine): Promise<void> {
    await m.device.kill();
    await eventually(`${m.name} offline for the Hive`, () => this.authenticated(m), (on) => !on);
  }

  authenticated(m: Machine): Promise<boolean> {
    return this.hive.api.get(`/api/devices/${m.id}`).then((r) => r.body.authenticated as boolean);
  }

  async install(on: Machine, app = 'notes'): Promise<string> {
    const installed = await this.hive.api.post(`/api/devices/${on.id}/apps`, { app, timeoutSeconds: 120 });
    expect(installed.body.command).toMatchObject({ status: 'succeeded' });
    return installed.body.instance;
  }

  /** An app command through the Hive; it must succeed. */
  async run(instance: string, command: string, args?: Record<string, string>): Promise<{ exitCode: number; stdout: string }> {
    const answer = await this.hive.api.post(`/api/apps/${instance}/commands`, { command, ...(args ? { args } : {}) });
    expect(answer.body.command).toMatchObject({ status: 'succeeded' });
    return answer.body.command.result;
  }

  /** A stop (which replicates) and a start: the app runs again with a replica of what it had. */
  async replicateByRestart(instance: string): Promise<void> {
    expect((await this.hive.api.post(`/api/apps/${instance}/stop`, { timeoutSeconds: 120 })).body.command).toMatchObject({ status: 'succeeded' });
    expect((await this.hive.api.post(`/api/apps/${instance}/start`, { timeoutSeconds: 120 })).body.command).toMatchObject({ status: 'succeeded' });
  }

  appOn(instance: string): Promise<any> {
    return this.hive.api.get(`/api/apps/${instance}`).then((r) => r.body);
  }

  move(id: string): Promise<any> {
    return this.hive.api.get(`/api/moves/${id}`).then((r) => r.body);
  }

  /** The states of the app's containers on the machine's engine, as `docker ps -a` has them. */
  async containerStates(m: Machine, instance: string): Promise<string[]> {
    return (await m.engine.docker('ps', '-a', '--format', '{{.State}}', '--filter', `label=com.docker.compose.project=mosaic-${instance}`)).trim().split('\n');
  }

  async close(): Promise<void> {
    for (const m of this.machines) {
      await m.device.stop();
      await m.plugin.close();
      await m.engine.stop();
      await m.proxy?.cut();
    }
    if (this.ownsHive) await (this.hive as TestHive).close();
    await this.store.stop();
    this.root.remove();
  }
}
