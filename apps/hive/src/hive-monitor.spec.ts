import { CommandType, Events } from '@mosaic/protocol';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePrometheusText, sampleValue } from '../../../test/support/prometheus-text';
import { AppDevice } from './testing/app-device';
import { FakeDevice } from './testing/fake-device';
import { randomVerifier } from './testing/fixtures';
import { TestHive, startTestHive } from './testing/test-hive';

/** GET /api/health answers for the database (README of the Hive, "Health and metrics"). */
describe('Hive health (in-process Hive, its database in a file)', () => {
  let dir: string;
  let hive: TestHive;
  let dbPath: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mosaic-hive-health-'));
    dbPath = join(dir, 'hive.db');
    hive = await startTestHive({ dbPath });
  });

  afterEach(async () => {
    await hive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const health = () => fetch(`${hive.url}/api/health`).then(async (r) => ({ status: r.status, body: await r.json() }));

  it('is 200 while the database reads', async () => {
    expect(await health()).toEqual({ status: 200, body: { ok: true, version: expect.any(String), database: { ok: true } } });
  });

  it('is 503 once the database file is damaged', async () => {
    // As SQLite does by itself every 1,000 pages: the file, not the WAL, then holds the data.
    const other = new Database(dbPath);
    other.pragma('wal_checkpoint(TRUNCATE)');
    other.close();
    writeFileSync(dbPath, Buffer.alloc(8192, 0x5a));
    expect(await health()).toEqual({
      status: 503,
      body: { ok: false, version: expect.any(String), database: { ok: false, error: expect.stringMatching(/not a database/) } },
    });
  });

  it('is 503 once the database file is gone', async () => {
    unlinkSync(dbPath);
    const { status, body } = await health();
    expect(status).toBe(503);
    expect((body as { database: unknown }).database).toEqual({ ok: false, error: expect.any(String) });
  });
});

/** GET /metrics, scraped and parsed as Prometheus would. */
describe('Hive metrics (in-process Hive, fake devices over socket.io)', () => {
  let hive: TestHive;
  let verifier: string;
  const open: FakeDevice[] = [];

  beforeAll(async () => {
    hive = await startTestHive();
    verifier = randomVerifier();
    expect((await hive.api.put('/api/account/passphrase', { verifier })).status).toBe(200);
  });

  afterAll(async () => {
    for (const device of open) device.close();
    await hive.close();
  });

  const scrape = async () => {
    const res = await fetch(`${hive.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };

  async function device(name: string, prove: boolean): Promise<{ id: string; app: AppDevice }> {
    const { id, token } = (await hive.api.post('/api/devices', { name })).body;
    const fake = FakeDevice.withToken(hive.url, token, '1.0.0');
    open.push(fake);
    if (prove) expect(await fake.prove(verifier)).toEqual({ ok: true });
    else await fake.connected();
    return { id, app: new AppDevice(fake) };
  }

  it('counts devices, commands by type and outcome with their latencies, and report ages, without a token', async () => {
    const a = await device('a', true);
    await device('b', false);
    await hive.api.post('/api/devices', { name: 'never-connected' });

    expect((await hive.api.post(`/api/devices/${a.id}/commands`, { type: CommandType.UpgradeRun })).status).toBe(200);
    a.app.next({ refuse: { code: 'BUSY', message: 'busy' } });
    await hive.api.post(`/api/devices/${a.id}/commands`, { type: CommandType.DiskSpace });
    expect(await a.app.device.emitWithAck(Events.reportApps, { at: new Date(Date.now() - 5000).toISOString(), apps: [] })).toEqual({ ok: true });

    const samples = await scrape();
    expect(sampleValue(samples, 'mosaic_hive_devices', { state: 'registered' })).toBe(3);
    expect(sampleValue(samples, 'mosaic_hive_devices', { state: 'connected' })).toBe(2);
    expect(sampleValue(samples, 'mosaic_hive_devices', { state: 'authenticated' })).toBe(1);
    expect(sampleValue(samples, 'mosaic_hive_commands_total', { type: CommandType.UpgradeRun, outcome: 'succeeded' })).toBe(1);
    expect(sampleValue(samples, 'mosaic_hive_commands_total', { type: CommandType.DiskSpace, outcome: 'refused' })).toBe(1);
    expect(sampleValue(samples, 'mosaic_hive_command_ack_seconds_count', { type: CommandType.UpgradeRun })).toBe(1);
    expect(sampleValue(samples, 'mosaic_hive_command_result_seconds_count', { type: CommandType.UpgradeRun })).toBe(1);
    expect(sampleValue(samples, 'mosaic_hive_command_result_seconds_count', { type: CommandType.DiskSpace })).toBeUndefined();
    // Received just now: the age is the Hive's own clock since receipt, not the report's `at`.
    expect(sampleValue(samples, 'mosaic_hive_report_age_max_seconds', { kind: 'apps' })).toBeLessThan(5);
    expect(sampleValue(samples, 'mosaic_hive_report_age_max_seconds', { kind: 'volumes' })).toBeUndefined();
    expect(sampleValue(samples, 'mosaic_hive_moves', { state: 'restoring' })).toBe(0);
    expect(samples.find((s) => s.name === 'mosaic_hive_info')?.value).toBe(1);
    expect(samples.some((s) => s.name === 'mosaic_hive_process_resident_memory_bytes')).toBe(true);
    expect(samples.flatMap((s) => Object.values(s.labels))).not.toContain(a.id);
  });
});
