import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { derivePassphraseVerifier } from '@mosaic/protocol';
import { HiveApiClient } from '../../apps/hive/src/testing/hive-api-client';
import { E2E_PASSPHRASE } from '../support/e2e-hive';
import { DeviceProcess } from '../support/device-process';
import { tempRoot } from '../support/device-harness';
import { eventually } from '../support/eventually';
import { PostgresCluster, startPostgresCluster } from '../support/postgres';

jest.setTimeout(180_000);

const HIVE_MAIN = join(__dirname, '../../dist/apps/hive/main.js');

/** A real Hive process (`node dist/apps/hive/main.js`) on a port the system picks, its output kept. */
class HiveProcess {
  readonly url: Promise<string>;
  readonly exited: Promise<number | null>;
  private output = '';
  private readonly child: ChildProcess;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [HIVE_MAIN], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', HIVE_PORT: '0', HIVE_HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.url = new Promise((resolve, reject) => {
      const seen = (chunk: Buffer) => {
        this.output = (this.output + chunk.toString()).slice(-20_000);
        const match = /Hive listening on (http:\/\/[\w.:[\]-]+)/.exec(this.output);
        if (match) resolve(match[1]);
      };
      this.child.stdout!.on('data', seen);
      this.child.stderr!.on('data', seen);
      void this.exited.then((code) => reject(new Error(`the Hive exited with ${code}:\n${this.output}`)));
    });
  }

  get log(): string {
    return this.output;
  }

  /** SIGKILL: a crash, without the goodbye a stopping process sends. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/**
 * Two real Hive processes on one PostgreSQL database (docs/architecture.md "The Hive cluster"),
 * and a real Device connected to the second, driven through the first one's REST API.
 */
describe('a Hive cluster of two processes, with a real Device', () => {
  const root = tempRoot('e2e-hive-cluster');
  const adminToken = randomBytes(16).toString('hex');
  let postgres: PostgresCluster;
  let p1: HiveProcess;
  let p2: HiveProcess;
  let device: DeviceProcess | undefined;

  beforeAll(async () => {
    expect(existsSync(HIVE_MAIN) ? HIVE_MAIN : 'dist/apps/hive/main.js is missing: run `npx nest build hive` first').toBe(HIVE_MAIN);
    postgres = await startPostgresCluster();
    const admin = new Client({ connectionString: postgres.url('postgres'), connectionTimeoutMillis: 10_000 });
    await admin.connect();
    await admin.query('CREATE DATABASE hive');
    await admin.end();
    const env = { HIVE_ADMIN_TOKEN: adminToken, HIVE_DATABASE_URL: postgres.url('hive') };
    p1 = new HiveProcess(env);
    await p1.url; // P1 migrates the new database; P2 finds it ready
    p2 = new HiveProcess(env);
    await p2.url;
  });

  afterAll(async () => {
    await device?.stop();
    await p2?.stop();
    await p1?.stop();
    await postgres?.stop();
    root.remove();
  });

  it('reaches a Device held by P2 through P1’s REST API, and sees it offline once P2 dies', async () => {
    const api = new HiveApiClient(await p1.url, adminToken);
    const { body: account } = await api.get('/api/account');
    expect((await api.put('/api/account/passphrase', { verifier: await derivePassphraseVerifier(E2E_PASSPHRASE, account.passphrase.salt) })).status).toBe(200);
    const created = await api.post('/api/devices', { name: 'cluster' });
    expect(created.status).toBe(201);
    const { id, token } = created.body;

    const dir = join(root.path, 'device');
    device = new DeviceProcess({
      HIVE_URL: await p2.url,
      DEVICE_TOKEN: token,
      DEVICE_PASSPHRASE: E2E_PASSPHRASE,
      DEVICE_NAME: 'cluster',
      APPS_DIR: join(dir, 'apps'),
      STATE_DIR: join(dir, 'state'),
      VOLUMES_DIR: root.path,
    });
    await device.waitForLine(/authenticated as device/);
    // The Device is another process: P1's view is read through its REST API.
    await eventually('P1 shows the device P2 holds', () => api.get(`/api/devices/${id}`), (r) => r.body.authenticated === true, 30_000);

    const sent = await api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.diskSpace', params: {} });
    expect(sent.status).toBe(200);
    expect(sent.body.status).toBe('succeeded');
    const [first] = sent.body.result.paths;
    expect(first.totalBytes).toBeGreaterThan(0);
    expect(first.availableBytes).toBeLessThanOrEqual(first.totalBytes);
    expect((await api.get(`/api/devices/${id}/commands/${sent.body.id}`)).body.status).toBe('succeeded');

    // P2 crashes: no goodbye; P1 counts it out after its silence (PRESENCE_PEER_TIMEOUT_MS, 10 s).
    await p2.kill();
    await eventually('P1 sees the device offline', () => api.get(`/api/devices/${id}`), (r) => r.body.online === false, 30_000);
    const offline = await api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.diskSpace', params: {} });
    expect(offline.status).toBe(409);
    expect(offline.body.code).toBe('DEVICE_OFFLINE');
  });
});
