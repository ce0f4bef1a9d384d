import { ErrorCode, Events } from '@mosaic/protocol';
import { Client } from 'pg';
import { FakeDevice } from '../../apps/hive/src/testing/fake-device';
import { appsReport, randomVerifier } from '../../apps/hive/src/testing/fixtures';
import { TEST_ADMIN_TOKEN, TestHive, startTestHive } from '../../apps/hive/src/testing/test-hive';
import { eventually } from '../support/eventually';
import { PostgresCluster, startPostgresCluster } from '../support/postgres';

/**
 * A Hive on a real PostgreSQL server that stops and starts again (the same data and socket):
 * meanwhile REST answers 503 DATABASE_UNAVAILABLE, /health 503, device acks INTERNAL; nothing
 * crashes, and once the server is back the same Hive serves again without a restart.
 */
describe('Hive: the database restarted (real PostgreSQL)', () => {
  let cluster: PostgresCluster;
  let hive: TestHive;
  let device: FakeDevice;
  let deviceId: string;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    const admin = new Client({ connectionString: cluster.url('postgres'), connectionTimeoutMillis: 10_000 });
    await admin.connect();
    await admin.query('CREATE DATABASE hive');
    await admin.end();
    hive = await startTestHive({ databaseUrl: cluster.url('hive') });
    const created = await hive.api.post('/api/devices', { name: 'kitchen' });
    expect(created.status).toBe(201);
    deviceId = created.body.id;
    device = FakeDevice.withToken(hive.url, created.body.token);
    expect(await device.prove(randomVerifier())).toEqual({ ok: true });
  }, 120_000);

  afterAll(async () => {
    device?.close();
    await hive?.close();
    await cluster?.stop();
  }, 60_000);

  it('answers 503 while PostgreSQL is down and serves again once it is back, without a restart', async () => {
    expect((await hive.api.get(`/api/devices/${deviceId}`)).status).toBe(200);

    await cluster.stopServer();

    const rest = await hive.api.get(`/api/devices/${deviceId}`);
    expect(rest.status).toBe(503);
    expect(rest.body).toEqual({ code: 'DATABASE_UNAVAILABLE', message: expect.stringContaining('database') });
    const write = await hive.api.post('/api/devices', { name: 'garage' });
    expect(write.status).toBe(503);
    expect(write.body.code).toBe('DATABASE_UNAVAILABLE');
    const retryAfter = await fetch(`${hive.url}/api/devices`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(retryAfter.status).toBe(503);
    expect(retryAfter.headers.get('retry-after')).toBe('5');

    const health = await hive.api.as(null).get('/api/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ ok: false, database: { ok: false, error: expect.any(String) } });

    // The device keeps its socket; what it sends is refused as retryable (docs/protocol.md §7), so it sends it again.
    const ack = await device.emitWithAck(Events.reportApps, appsReport(new Date().toISOString()));
    expect(ack).toEqual({
      ok: false,
      error: { code: ErrorCode.INTERNAL, message: expect.stringContaining('database is unavailable'), details: { retryable: true } },
    });
    expect(device.socket.connected).toBe(true);

    await cluster.startServer();

    await eventually(
      '/health healthy again',
      () => hive.api.as(null).get('/api/health'),
      (r) => r.status === 200,
      30_000,
    );
    const back = await hive.api.get(`/api/devices/${deviceId}`);
    expect(back.status).toBe(200);
    expect(back.body.id).toBe(deviceId);
    expect((await hive.api.post('/api/devices', { name: 'garage' })).status).toBe(201);
    expect(await device.emitWithAck(Events.reportApps, appsReport(new Date().toISOString()))).toEqual({ ok: true });
  }, 120_000);
});
