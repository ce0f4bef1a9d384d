import { Events, derivePassphraseVerifier } from '@mosaic/protocol';
import { FakeDevice } from '../../apps/hive/src/testing/fake-device';
import { appsReport } from '../../apps/hive/src/testing/fixtures';
import type { HiveApiClient } from '../../apps/hive/src/testing/hive-api-client';
import { TEST_ADMIN_TOKEN } from '../../apps/hive/src/testing/test-hive';
import { tempRoot } from '../support/device-harness';
import { DeviceProcess } from '../support/device-process';
import { E2E_PASSPHRASE, e2eDeviceSettings } from '../support/e2e-hive';
import { eventually } from '../support/eventually';
import { HEALTH_CHANGE_MS, HiveCluster, startHiveCluster } from '../support/hive-cluster';
import type { HiveProcess } from '../support/hive-process';

jest.setTimeout(180_000);

/**
 * Which of the cluster's processes holds `deviceId`'s socket: the one whose log says it
 * authenticated the device more often than it saw it leave (REST shows the device online on
 * every process, wherever its socket is).
 */
function holderOf(hives: HiveProcess[], deviceId: string): HiveProcess | undefined {
  return hives
    .filter((h) => h.running)
    .find((h) => h.output.count(new RegExp(`device ${deviceId} authenticated`)) > h.output.count(new RegExp(`device ${deviceId} disconnected`)));
}

async function addDevice(api: HiveApiClient, name: string): Promise<{ id: string; token: string }> {
  const created = await api.post('/api/devices', { name });
  if (created.status !== 201) throw new Error(`adding ${name} failed: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body;
}

/**
 * deploy/hive-cluster in processes: PostgreSQL, two real Hive processes, HAProxy with the
 * deployment's haproxy.cfg, and a real Device (plus simulated ones) connecting through HAProxy.
 */
describe('two Hive processes behind HAProxy (deploy/hive-cluster)', () => {
  const root = tempRoot('e2e-hive-cluster');
  let cluster: HiveCluster;
  const devices: DeviceProcess[] = [];
  const fakes: FakeDevice[] = [];

  beforeAll(async () => {
    cluster = await startHiveCluster();
  }, 180_000);

  afterAll(async () => {
    for (const fake of fakes) fake.close();
    for (const device of devices) await device.stop();
    await cluster?.stop();
    root.remove();
  }, 60_000);

  /** A simulated device through HAProxy that proved the passphrase. */
  async function fakeDevice(name: string): Promise<{ id: string; device: FakeDevice }> {
    const { id, token } = await addDevice(cluster.api, name);
    const device = FakeDevice.withToken(cluster.haproxy.url, token);
    fakes.push(device);
    const hello = await device.hello;
    expect(await device.prove(await derivePassphraseVerifier(E2E_PASSPHRASE, hello.passphrase.salt))).toEqual({ ok: true });
    return { id, device };
  }

  it('serves REST through HAProxy from both processes, each reading the same database', async () => {
    const created = await addDevice(cluster.api, 'shared');
    const servedBy = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${cluster.api.url}/api/devices/${created.id}`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      expect(response.status).toBe(200);
      servedBy.add(response.headers.get('x-served-by') ?? '');
    }
    expect([...servedBy].sort()).toEqual(['hive1', 'hive2']);
    for (const hive of cluster.hives) expect((await hive.api.get(`/api/devices/${created.id}`)).body.name).toBe('shared');
  });

  it('spreads device sockets over both processes (WebSocket through HAProxy)', async () => {
    const spread = await Promise.all(['a', 'b', 'c', 'd'].map((name) => fakeDevice(`sim-${name}`)));
    const holders = spread.map(({ id }) => holderOf(cluster.hives, id));
    expect(holders.every((h) => h !== undefined)).toBe(true);
    expect(new Set(holders.map((h) => h!.pid)).size).toBe(2);
    for (const { device } of spread)
      expect(await device.emitWithAck(Events.reportApps, appsReport(new Date().toISOString()))).toEqual({ ok: true });
  });

  it('PostgreSQL restarted: 503 meanwhile (from the Hives, then from HAProxy once it took both out), then both serve again by themselves', async () => {
    const { id, device } = await fakeDevice('through-outage');
    await cluster.postgres.stopServer();
    // Started again whatever happens meanwhile: a failure here must not leave the next tests without a database.
    try {
      const during = await cluster.api.get(`/api/devices/${id}`);
      expect(during.status).toBe(503);
      expect(['DATABASE_UNAVAILABLE', 'HIVE_UNAVAILABLE']).toContain(during.body.code);
      // Both processes fail their health checks: HAProxy answers itself, in the API's error shape.
      const out = await eventually(
        'HAProxy took both processes out',
        () => cluster.api.get('/api/devices'),
        (r) => r.body?.code === 'HIVE_UNAVAILABLE',
        HEALTH_CHANGE_MS,
      );
      expect(out.status).toBe(503);
      // The device's socket stays; what it sends is refused as retryable: a device keeps it and sends it again.
      const ack = await device.emitWithAck(Events.reportApps, appsReport(new Date().toISOString()));
      expect(ack).toMatchObject({ ok: false, error: { code: 'INTERNAL', details: { retryable: true } } });
    } finally {
      await cluster.postgres.startServer();
    }
    // Each process by itself, then HAProxy bringing both back in.
    for (const hive of cluster.hives)
      await eventually(
        'the process healthy again',
        () => hive.api.get('/api/health'),
        (r) => r.status === 200,
        30_000,
      );
    await cluster.healthyBehindProxy();
    expect((await cluster.api.get(`/api/devices/${id}`)).status).toBe(200);
    expect(await device.emitWithAck(Events.reportApps, appsReport(new Date().toISOString()))).toEqual({ ok: true });
    expect(cluster.hives.every((hive) => hive.running)).toBe(true);
  });

  it('a Hive process killed (SIGKILL): the real Device reconnects through HAProxy to the other one, and REST keeps working', async () => {
    const { id, token } = await addDevice(cluster.api, 'real');
    const device = new DeviceProcess({
      ...e2eDeviceSettings(cluster.haproxy, token, root.path, 'e2e-cluster-device'),
      REPORT_APPS_INTERVAL_S: '1',
    });
    devices.push(device);
    await device.waitForLine(/authenticated as device/);
    const holder = await eventually(
      'a process holds the device',
      async () => holderOf(cluster.hives, id),
      (h) => h !== undefined,
      30_000,
    );
    const survivor = cluster.hives.find((hive) => hive !== holder)!;
    // The holder announces the device to the other process over the bus: once that one says so, it can reach it.
    await eventually(
      'the other process sees the device authenticated',
      () => survivor.api.get(`/api/devices/${id}`),
      (r) => r.status === 200 && r.body.authenticated === true,
      30_000,
    );

    // A command asked of the process that does not hold the device reaches it through the other (its room).
    const across = await survivor.api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.diskSpace', params: {} });
    expect(across.status).toBe(200);
    expect(across.body.status).toBe('succeeded');
    expect(across.body.result.paths[0].totalBytes).toBeGreaterThan(0);
    expect((await holder!.api.get(`/api/devices/${id}/commands/${across.body.id}`)).body.status).toBe('succeeded');

    await holder!.kill();

    await eventually(
      'the device authenticated again',
      async () => device.count(/authenticated as device/),
      (n) => n >= 2,
      60_000,
    );
    await eventually(
      'the survivor holds it',
      () => survivor.api.get(`/api/devices/${id}`),
      (r) => r.body.online === true,
      30_000,
    );
    const listed = await cluster.api.get(`/api/devices/${id}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ id, online: true });
    const sent = await cluster.api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.diskSpace', params: {} });
    expect(sent.status).toBe(200);
    expect(sent.body.status).toBe('succeeded');
    expect(survivor.running).toBe(true);
  });
});
