import { CommandType, Events } from '@mosaic/protocol';
import { AppDevice } from './testing/app-device';
import { FakeDevice } from './testing/fake-device';
import { randomVerifier } from './testing/fixtures';
import { TestHive, startTestHive } from './testing/test-hive';

const CURRENT = '2.0.0';

/**
 * The Hive keeps devices up to date. A command the Hive sends because of a report goes out on
 * the same socket before the report's acknowledgement, so once the ack is in, every command the
 * report caused has arrived: "none" can be asserted without waiting.
 */
describe('Hive device upgrades (in-process Hive, fake device over socket.io)', () => {
  let hive: TestHive;
  let verifier: string;
  const open: FakeDevice[] = [];

  beforeAll(async () => {
    hive = await startTestHive({ deviceVersion: CURRENT });
    verifier = randomVerifier();
    expect((await hive.api.put('/api/account/passphrase', { verifier })).status).toBe(200);
  });

  afterEach(() => {
    for (const device of open.splice(0)) device.close();
  });

  afterAll(async () => {
    await hive.close();
  });

  async function connectedDevice(version: string): Promise<{ id: string; app: AppDevice }> {
    const { id, token } = (await hive.api.post('/api/devices', { name: `nas-${version}` })).body;
    const device = FakeDevice.withToken(hive.url, token, version);
    open.push(device);
    expect(await device.prove(verifier)).toEqual({ ok: true });
    return { id, app: new AppDevice(device) };
  }

  const versionReport = (version: string, secondsAgo: number) => ({
    at: new Date(Date.now() - secondsAgo * 1000).toISOString(),
    version,
    autoUpdate: true,
  });

  it('sends a device on an older version exactly one UpgradeCommand.run within the hour, and shows how it went', async () => {
    const { id, app } = await connectedDevice('1.4.0');
    app.next('no-result');
    expect(await app.device.emitWithAck(Events.reportVersion, versionReport('1.4.0', 2))).toEqual({ ok: true });
    const [upgrade] = app.ofType(CommandType.UpgradeRun);
    expect(upgrade).toEqual({ id: expect.any(String), type: CommandType.UpgradeRun, issuedAt: expect.any(String), params: {} });

    expect(await app.device.emitWithAck(Events.reportVersion, versionReport('1.4.0', 1))).toEqual({ ok: true });
    expect(await app.device.emitWithAck(Events.reportVersion, versionReport('2.0.0-rc.1', 0))).toEqual({ ok: true });
    expect(app.received).toEqual([upgrade]);

    const device = await hive.api.get(`/api/devices/${id}`);
    expect(device.body).toMatchObject({ id, version: '1.4.0' });
    expect(device.body.upgrade).toEqual({
      currentVersion: CURRENT,
      reportedVersion: '2.0.0-rc.1',
      lastAttemptAt: expect.any(String),
      lastCommandId: upgrade.id,
      lastStatus: 'accepted',
    });

    const result = { updater: { image: 'mosaic/updater:1', containerId: 'updater0' }, targets: ['mosaic-device'] };
    const finished = await app.device.emitWithAck(Events.commandResult, {
      id: upgrade.id,
      type: CommandType.UpgradeRun,
      ok: true,
      result,
      finishedAt: new Date().toISOString(),
    });
    expect(finished).toEqual({ ok: true });
    const upgradeView = await hive.api.get(`/api/devices/${id}/upgrade`);
    expect(upgradeView).toEqual({ status: 200, body: { ...device.body.upgrade, lastStatus: 'succeeded' } });
  });

  it('sends nothing to a device on the current or a newer version, nor to one that reports none', async () => {
    for (const version of [CURRENT, '2.0.1', '3.0.0-beta.1']) {
      const { id, app } = await connectedDevice(version);
      expect(await app.device.emitWithAck(Events.reportVersion, versionReport(version, 0))).toEqual({ ok: true });
      expect(app.received).toEqual([]);
      expect((await hive.api.get(`/api/devices/${id}`)).body.upgrade).toEqual({
        currentVersion: CURRENT,
        reportedVersion: version,
        lastAttemptAt: null,
        lastCommandId: null,
        lastStatus: null,
      });
    }
    // AUTO_UPDATE off: the device never sends report.version, so the Hive never sends an upgrade.
    const { id, app } = await connectedDevice('0.0.1');
    expect(await app.device.emitWithAck(Events.reportApps, { at: new Date().toISOString(), apps: [] })).toEqual({ ok: true });
    expect(app.received).toEqual([]);
    expect((await hive.api.get(`/api/devices/${id}/upgrade`)).body).toMatchObject({ reportedVersion: null, lastStatus: null });
    expect((await hive.api.get('/api/devices/00000000-0000-4000-8000-000000000000/upgrade')).status).toBe(404);
  });
});
