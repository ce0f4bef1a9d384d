import { CommandType, Events } from '@mosaic/protocol';
import { AppDevice } from './testing/app-device';
import { commandReaches } from './testing/command-status';
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

  it('sends a device on an older version one UpgradeCommand.run naming the target, and shows how it went', async () => {
    const { id, app } = await connectedDevice('1.4.0');
    app.next('no-result');
    expect(await app.device.emitWithAck(Events.reportVersion, versionReport('1.4.0', 2))).toEqual({ ok: true });
    const [upgrade] = app.ofType(CommandType.UpgradeRun);
    expect(upgrade).toEqual({ id: expect.any(String), type: CommandType.UpgradeRun, issuedAt: expect.any(String), params: { version: CURRENT } });

    expect(await app.device.emitWithAck(Events.reportVersion, versionReport('1.4.0', 1))).toEqual({ ok: true });
    expect(await app.device.emitWithAck(Events.reportVersion, versionReport('2.0.0-rc.1', 0))).toEqual({ ok: true });
    expect(app.received).toEqual([upgrade]);
    // The device's acknowledgement is stored on its own time, not before the reports' acks.
    await commandReaches(hive.app, id, upgrade.id, 'accepted');

    const device = await hive.api.get(`/api/devices/${id}`);
    expect(device.body).toMatchObject({ id, version: '1.4.0' });
    expect(device.body.upgrade).toEqual({
      currentVersion: CURRENT,
      targetImage: null,
      reportedVersion: '2.0.0-rc.1',
      lastAttemptAt: expect.any(String),
      lastCommandId: upgrade.id,
      lastStatus: 'accepted',
      outcome: 'pending',
      rolledBack: [],
      attempts: [
        {
          id: expect.any(String),
          requestedAt: expect.any(String),
          requestedBy: 'hive',
          fromVersion: '1.4.0',
          targetVersion: CURRENT,
          targetImage: null,
          commandId: upgrade.id,
          outcome: 'pending',
          finishedAt: null,
        },
      ],
    });

    const result = { updater: { image: 'sha256:0ld', containerId: 'updater0' }, targets: ['mosaic-device'], version: CURRENT, image: `ghcr.io/mosaic/device:${CURRENT}` };
    const finished = await app.device.emitWithAck(Events.commandResult, {
      id: upgrade.id,
      type: CommandType.UpgradeRun,
      ok: true,
      result,
      finishedAt: new Date().toISOString(),
    });
    expect(finished).toEqual({ ok: true });
    const upgradeView = await hive.api.get(`/api/devices/${id}/upgrade`);
    expect(upgradeView.status).toBe(200);
    expect(upgradeView.body).toMatchObject({ lastStatus: 'succeeded', outcome: 'succeeded', attempts: [{ outcome: 'succeeded', finishedAt: expect.any(String) }] });
  });

  it('records a rollback with its reason, does not try that version again, and tries it when asked through the API', async () => {
    const { id, app } = await connectedDevice('1.5.0');
    app.next('no-result');
    await app.device.emitWithAck(Events.reportVersion, versionReport('1.5.0', 1));
    const [upgrade] = app.ofType(CommandType.UpgradeRun);
    const error = {
      code: 'ROLLED_BACK',
      message: `ghcr.io/mosaic/device:${CURRENT} did not come up: its health check failed; mosaic-device runs ghcr.io/mosaic/device:1.5.0 again.`,
      details: { reason: 'unhealthy', image: `ghcr.io/mosaic/device:${CURRENT}`, version: CURRENT },
    };
    expect(await app.device.emitWithAck(Events.commandResult, { id: upgrade.id, type: CommandType.UpgradeRun, ok: false, error, finishedAt: new Date().toISOString() })).toEqual({ ok: true });
    expect(await app.device.emitWithAck(Events.reportVersion, versionReport('1.5.0', 0))).toEqual({ ok: true });
    expect(app.ofType(CommandType.UpgradeRun)).toHaveLength(1);
    expect((await hive.api.get(`/api/devices/${id}/upgrade`)).body).toMatchObject({ outcome: 'rolled_back', rolledBack: [CURRENT], lastError: error, attempts: [{ reason: error }] });

    app.next('no-result');
    const asked = await hive.api.post(`/api/devices/${id}/upgrade`, {});
    expect(asked).toEqual({ status: 202, body: expect.objectContaining({ requestedBy: 'api', targetVersion: CURRENT, outcome: 'pending' }) });
    expect(app.ofType(CommandType.UpgradeRun)).toHaveLength(2);
    expect((await hive.api.post(`/api/devices/${id}/upgrade`, { version: '9.0.0' })).body).toMatchObject({ code: 'UPGRADE_IN_PROGRESS' });
    expect((await hive.api.post(`/api/devices/${id}/upgrade`, { image: 'not an image' })).status).toBe(400);
  });

  it('sends nothing to a device on the current or a newer version, nor to one that reports none', async () => {
    for (const version of [CURRENT, '2.0.1', '3.0.0-beta.1']) {
      const { id, app } = await connectedDevice(version);
      expect(await app.device.emitWithAck(Events.reportVersion, versionReport(version, 0))).toEqual({ ok: true });
      expect(app.received).toEqual([]);
      expect((await hive.api.get(`/api/devices/${id}`)).body.upgrade).toEqual({
        currentVersion: CURRENT,
        targetImage: null,
        reportedVersion: version,
        lastAttemptAt: null,
        lastCommandId: null,
        lastStatus: null,
        outcome: null,
        rolledBack: [],
        attempts: [],
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
