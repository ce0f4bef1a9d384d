import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as openpgp from 'openpgp';
import { loadPluginConfig } from '../../apps/storage-plugin/src/config/load-plugin-config';
import { PluginConfig } from '../../apps/storage-plugin/src/config/plugin-config';
import { MetricsHttpServer } from '../../apps/storage-plugin/src/control-api/metrics-http.server';
import { ReplicationService } from '../../apps/storage-plugin/src/replication/replication.service';
import { StoragePluginModule } from '../../apps/storage-plugin/src/storage-plugin.module';

/** A temporary root for one plugin's sockets, data and replicas; short, for unix socket paths. */
export function pluginRoot(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `msp-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The environment of a plugin living under `root`; overrides win. */
export function pluginEnv(root: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    STORAGE_DRIVER: 'mosaic',
    DOCKER_PLUGIN_DIR: join(root, 'plugins'),
    STORAGE_PLUGIN_SOCKET: join(root, 'control.sock'),
    STORAGE_DATA_DIR: join(root, 'data'),
    REPLICA_URL: join(root, 'replicas'),
    LOG_LEVEL: 'error',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...overrides,
  };
}

/** What loadPluginConfig makes of that environment. */
export function pluginConfig(root: string, overrides: Record<string, string> = {}): PluginConfig {
  const loaded = loadPluginConfig(pluginEnv(root, overrides));
  if (!loaded.ok) throw new Error(`the test config does not load:\n${loaded.errors.join('\n')}`);
  return loaded.config;
}

export interface RunningPlugin {
  config: PluginConfig;
  /** http://127.0.0.1:<port> of STORAGE_METRICS_ADDRESS, when it is on. */
  metricsUrl?: string;
  control: ControlClient;
  pluginSocket: string;
  /** The snapshot the plugin holds staged for a volume (`POST /volumes/{name}/stage` finished), if any. */
  stagedSnapshot(name: string): string | undefined;
  close(): Promise<void>;
}

/** The real plugin in this process: both sockets served once this resolves. */
export async function startPlugin(config: PluginConfig): Promise<RunningPlugin> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const app: INestApplicationContext = await NestFactory.createApplicationContext(StoragePluginModule.forRoot(config), {
    logger: process.env.PLUGIN_TEST_LOG ? ['error', 'warn', 'log', 'debug'] : ['error'],
    abortOnError: false,
  });
  await app.init();
  const metricsPort = app.get(MetricsHttpServer).port;
  return {
    config,
    ...(metricsPort !== undefined && { metricsUrl: `http://${config.metricsAddress!.host}:${metricsPort}` }),
    control: new ControlClient(config.controlSocket),
    pluginSocket: join(config.pluginDir, `${config.driver}.sock`),
    stagedSnapshot: (name) => app.get(ReplicationService).stagedSnapshot(name),
    close: () => app.close(),
  };
}

/**
 * The real plugin with one of its data folders (`volumes` or `staging`) on a 1 MiB tmpfs of its
 * own, so a restore into it runs out of space (mounting needs root, as CI has). `close` stops the
 * plugin and unmounts.
 */
export async function startPluginOnTinyDisk(
  config: PluginConfig,
  folder: 'volumes' | 'staging',
): Promise<{ plugin: RunningPlugin; disk: string; close(): Promise<void> }> {
  const disk = join(config.dataDir, folder);
  mkdirSync(disk, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]);
  let plugin: RunningPlugin;
  try {
    plugin = await startPlugin(config);
  } catch (err) {
    execFileSync('umount', [disk]);
    throw err;
  }
  return {
    plugin,
    disk,
    close: async () => {
      await plugin.close();
      execFileSync('umount', [disk]);
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** Raw HTTP over a unix socket: the body is sent as given, with only the headers given. */
export function unixRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: { ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The Device's side of the control API. */
export class ControlClient {
  constructor(readonly socketPath: string) {}

  request(method: string, path: string, body?: unknown): Promise<Answer> {
    return unixRequest(
      this.socketPath,
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? {} : { 'Content-Type': 'application/json' },
    );
  }

  registerKey(key: TestKey, fingerprint = key.fingerprint): Promise<Answer> {
    return this.request('PUT', `/keys/${fingerprint}`, { privateKey: key.privateKey });
  }

  /** POST /volumes; an NDJSON answer is split into its lines. */
  async createVolume(body: Record<string, unknown>): Promise<{ status: number; lines: any[]; body: any }> {
    const answer = await this.request('POST', '/volumes', body);
    if (String(answer.headers['content-type']).startsWith('application/x-ndjson')) {
      const lines = answer.text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      return { status: answer.status, lines, body: lines[lines.length - 1] };
    }
    return { status: answer.status, lines: [], body: answer.body };
  }

  async volume(name: string): Promise<any> {
    const answer = await this.request('GET', `/volumes/${name}`);
    if (answer.status !== 200) throw new Error(`GET /volumes/${name}: ${answer.status} ${answer.text}`);
    return answer.body;
  }

  /** Asks until `test` holds for the volume (state that changes in the background has no event to wait on). */
  async waitForVolume(name: string, test: (volume: any) => boolean, timeoutMs = 30_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const volume = await this.volume(name);
      if (test(volume)) return volume;
      if (Date.now() > deadline) throw new Error(`volume ${name} never reached the expected state; last: ${JSON.stringify(volume)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A request on the Docker plugin socket, the way Docker sends it: POST, JSON, no Content-Type. */
export function dockerCall(socketPath: string, endpoint: string, body?: unknown): Promise<Answer> {
  return unixRequest(socketPath, 'POST', `/${endpoint}`, body === undefined ? undefined : JSON.stringify(body));
}

export interface TestKey {
  fingerprint: string;
  privateKey: string;
}

/** A fresh unprotected OpenPGP v4 key (Ed25519 + X25519), as the device generates them. */
export async function generateKey(): Promise<TestKey> {
  const { privateKey } = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 't' }], format: 'armored' });
  const key = await openpgp.readPrivateKey({ armoredKey: privateKey });
  return { fingerprint: key.getFingerprint(), privateKey };
}

/** Every regular file below `dir` with its sha256: equal maps mean byte-identical trees. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Does any file below `dir` contain `needle`? (the replica must hold ciphertext only) */
export function anyFileContains(dir: string, needle: string | Buffer): string | null {
  const bytes = Buffer.isBuffer(needle) ? needle : Buffer.from(needle);
  const walk = (current: string): string | null => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        const found = walk(path);
        if (found) return found;
      } else if (entry.isFile() && statSync(path).size >= bytes.length && readFileSync(path).includes(bytes)) {
        return path;
      }
    }
    return null;
  };
  return walk(dir);
}

export function randomName(prefix = 'vol'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** The built plugin (`node dist/apps/storage-plugin/main.js`) as its own process group. */
export class PluginProcess {
  readonly output: string[] = [];
  exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private child?: ChildProcess;

  constructor(private readonly env: Record<string, string>) {}

  static readonly MAIN = join(__dirname, '../../dist/apps/storage-plugin/main.js');

  get pid(): number {
    if (!this.child?.pid) throw new Error('the plugin is not running');
    return this.child.pid;
  }

  /** Starts it and resolves once it says it is ready (both sockets served). */
  start(): Promise<void> {
    statSync(PluginProcess.MAIN); // a missing build is an error, not a skipped test
    const child = spawn(process.execPath, [PluginProcess.MAIN], {
      env: { ...this.env, NO_COLOR: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.output.push(chunk.toString('utf8'));
        if (this.output.join('').includes('ready: driver')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void this.exit!.then(({ code, signal }) =>
        reject(new Error(`the plugin exited (${code ?? signal}) before it was ready:\n${this.output.join('')}`)),
      );
    });
  }

  /** Kills the whole process group (the plugin and any restic it started), like a container kill. */
  async killGroup(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    process.kill(-this.pid, signal);
    await this.exit;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return (await this.exit)!;
  }
}

/**
 * Devices A and B: two plugins under `root` sharing the replica folder `replicas` (B's settings
 * changed by `bOverrides`), both holding one new key. The caller closes both.
 */
export async function pluginPair(
  root: string,
  replicas: string,
  bOverrides: Record<string, string> = {},
): Promise<{ a: RunningPlugin; b: RunningPlugin; key: TestKey }> {
  const a = await startPlugin(pluginConfig(join(root, 'a'), { REPLICA_URL: replicas }));
  const b = await startPlugin(pluginConfig(join(root, 'b'), { REPLICA_URL: replicas, ...bOverrides }));
  const key = await generateKey();
  await a.control.registerKey(key);
  await b.control.registerKey(key);
  return { a, b, key };
}
