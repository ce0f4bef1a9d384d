import { Logger } from '@nestjs/common';
import { CommandEnvelope, CommandType } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { CommandCompletions } from '../commands/command-completions';
import { CommandRepository } from '../commands/command.repository';
import { HiveMetrics } from '../metrics/hive-metrics';
import { CommandsService } from '../commands/commands.service';
import { Clock } from '../common/clock';
import { HiveConfig } from '../config/hive-config';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { DeviceRepository } from '../devices/device.repository';
import { DevicesService } from '../devices/devices.service';
import { ReportRepository } from '../reports/report.repository';
import { ReportsService } from '../reports/reports.service';
import { DeviceConnection } from '../sessions/device-connection';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { DeviceUpgradeService, UPGRADE_INTERVAL_MS } from './device-upgrade.service';
import { UpgradeRepository } from './upgrade.repository';

const CURRENT = '2.0.0';
const CONFIG: HiveConfig = {
  adminToken: 'x'.repeat(16),
  port: 0,
  host: '127.0.0.1',
  dbPath: ':memory:',
  commandTimeoutS: 30,
  catalogDir: '/nonexistent/catalog',
  deviceVersion: CURRENT,
  logLevel: 'log',
  logFormat: 'text',
  devtools: false,
  publicUrl: null,
  consoleDir: '/nonexistent/console',
};

class FakeClock extends Clock {
  ms = Date.parse('2026-11-25T10:00:00.000Z');
  override now(): Date {
    return new Date(this.ms);
  }
}

/** Accepts every command and keeps it. */
class AcceptingDevice implements DeviceConnection {
  readonly connectionId = randomUUID();
  readonly received: CommandEnvelope[] = [];
  constructor(readonly deviceId: string) {}
  emitWithAck(_event: string, payload: unknown): Promise<unknown> {
    this.received.push(payload as CommandEnvelope);
    return Promise.resolve({ id: (payload as CommandEnvelope).id, accepted: true });
  }
  disconnect(): void {
    throw new Error('the upgrade service never disconnects devices');
  }
}

/** One Hive process: a restart is a new one on the same database. */
function hiveProcess(db: HiveDatabase, clock: FakeClock, config: HiveConfig = CONFIG) {
  const sessions = new DeviceSessionRegistry();
  const devices = new DevicesService(new DeviceRepository(db), sessions, new ReportsService(new ReportRepository(db)));
  const commands = new CommandsService(config, new CommandRepository(db), new CommandCompletions(), devices, sessions, new HiveMetrics());
  const reports = new ReportsService(new ReportRepository(db));
  const upgrades = new DeviceUpgradeService(config, new UpgradeRepository(db), commands, reports, devices, clock);
  return { sessions, devices, commands, reports, upgrades };
}

describe('DeviceUpgradeService', () => {
  let db: HiveDatabase;
  let clock: FakeClock;
  let hive: ReturnType<typeof hiveProcess>;
  let deviceId: string;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await openTestDatabase();
    clock = new FakeClock();
    hive = hiveProcess(db, clock);
    deviceId = (await hive.devices.create('nas')).id;
  });

  afterEach(async () => {
    hive.upgrades.onModuleDestroy();
    await db.close();
  });

  function restart(config: HiveConfig = CONFIG): void {
    hive.upgrades.onModuleDestroy();
    hive = hiveProcess(db, clock, config);
  }

  function connect(): AcceptingDevice {
    const device = new AcceptingDevice(deviceId);
    hive.sessions.add(device);
    hive.sessions.authenticate(device);
    return device;
  }

  /** What the gateway does with a report.version: keep it, then hand the version over. */
  async function report(version: string): Promise<void> {
    const versionReport = { at: clock.now().toISOString(), version, autoUpdate: true };
    await hive.reports.store(deviceId, 'version', versionReport);
    await hive.upgrades.versionReported(deviceId, version);
  }

  /** The device's command.result for an upgrade. */
  async function result(
    envelope: CommandEnvelope,
    outcome: { result: Record<string, unknown> } | { error: { code: string; message: string; details?: unknown } },
  ): Promise<void> {
    const finishedAt = clock.now().toISOString();
    if ('result' in outcome)
      await hive.commands.recordResult(deviceId, { id: envelope.id, type: envelope.type, ok: true, result: outcome.result, finishedAt });
    else await hive.commands.recordResult(deviceId, { id: envelope.id, type: envelope.type, ok: false, error: outcome.error, finishedAt });
  }

  const UPDATER = { updater: { image: 'sha256:old', containerId: 'u1' }, targets: ['mosaic-device'] };
  const rolledBack = (version: string) => ({
    code: 'ROLLED_BACK',
    message: `registry.example/mosaic/device:${version} did not come up: its health check failed; mosaic-device runs the previous image again.`,
    details: { reason: 'unhealthy', image: `registry.example/mosaic/device:${version}`, version },
  });

  it('sends a device on an older version UpgradeCommand.run naming the target, once while it is under way, and records the attempt', async () => {
    const device = connect();
    await report('1.9.9');
    clock.ms += UPGRADE_INTERVAL_MS - 1;
    await report('1.9.9');
    expect(device.received).toEqual([
      { id: expect.any(String), type: CommandType.UpgradeRun, issuedAt: expect.any(String), params: { version: CURRENT } },
    ]);
    expect(await hive.upgrades.describe(deviceId)).toEqual({
      currentVersion: CURRENT,
      targetImage: null,
      reportedVersion: '1.9.9',
      lastAttemptAt: '2026-11-25T10:00:00.000Z',
      lastCommandId: device.received[0].id,
      lastStatus: 'accepted',
      outcome: 'pending',
      rolledBack: [],
      attempts: [
        {
          id: expect.any(String),
          requestedAt: '2026-11-25T10:00:00.000Z',
          requestedBy: 'hive',
          fromVersion: '1.9.9',
          targetVersion: CURRENT,
          targetImage: null,
          commandId: device.received[0].id,
          outcome: 'pending',
          finishedAt: null,
        },
      ],
    });
  });

  it('names HIVE_DEVICE_IMAGE with the version when it is set', async () => {
    restart({ ...CONFIG, deviceImage: 'registry.example/mosaic/device:2.0.0' });
    const device = connect();
    await report('1.0.0');
    expect(device.received[0].params).toEqual({ version: CURRENT, image: 'registry.example/mosaic/device:2.0.0' });
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({
      targetImage: 'registry.example/mosaic/device:2.0.0',
      attempts: [{ targetImage: 'registry.example/mosaic/device:2.0.0' }],
    });
  });

  it('sends {} to a device too old to understand a target (before 0.1.0): it would refuse the fields', async () => {
    const device = connect();
    await report('0.0.9');
    expect(device.received[0].params).toEqual({});
  });

  it.each(['2.0.0', '2.0.0+build.5', '2.0.1', '10.0.0'])('leaves a device on %s alone', async (version) => {
    const device = connect();
    await report(version);
    expect(device.received).toEqual([]);
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({
      reportedVersion: version,
      lastAttemptAt: null,
      lastStatus: null,
      outcome: null,
      attempts: [],
    });
  });

  it('records succeeded when the device answers with the version it reached', async () => {
    const device = connect();
    await report('1.0.0');
    clock.ms += 90_000;
    await result(device.received[0], { result: { ...UPDATER, version: CURRENT, image: 'registry.example/mosaic/device:2.0.0' } });
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({
      lastStatus: 'succeeded',
      outcome: 'succeeded',
      attempts: [{ outcome: 'succeeded', finishedAt: '2026-11-25T10:01:30.000Z' }],
    });
  });

  it('takes an answer without a version (Watchtower: an updater started) as started, and succeeded once the device reports the target', async () => {
    const device = connect();
    await report('1.0.0');
    await result(device.received[0], { result: UPDATER });
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({ outcome: 'started', attempts: [{ finishedAt: null }] });
    await report('1.0.0'); // not there yet: still started, nothing sent
    expect((await hive.upgrades.describe(deviceId)).outcome).toBe('started');
    clock.ms += 60_000;
    await report(CURRENT);
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({
      outcome: 'succeeded',
      attempts: [{ finishedAt: '2026-11-25T10:01:00.000Z' }],
    });
    expect(device.received).toHaveLength(1);
  });

  it('records rolled_back with the reason, and never tries that version again by itself', async () => {
    const device = connect();
    await report('1.0.0');
    await result(device.received[0], { error: rolledBack(CURRENT) });
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({
      lastStatus: 'failed',
      lastError: rolledBack(CURRENT),
      outcome: 'rolled_back',
      rolledBack: [CURRENT],
      attempts: [{ outcome: 'rolled_back', reason: rolledBack(CURRENT) }],
    });
    for (const wait of [0, UPGRADE_INTERVAL_MS, 30 * 24 * UPGRADE_INTERVAL_MS]) {
      clock.ms += wait;
      await report('1.0.0');
    }
    restart();
    connect();
    await report('1.0.0');
    expect(device.received).toHaveLength(1);
  });

  it('tries a new target at once after a rollback of another', async () => {
    const device = connect();
    await report('1.0.0');
    await result(device.received[0], { error: rolledBack(CURRENT) });
    restart({ ...CONFIG, deviceVersion: '2.0.1' });
    const again = connect();
    await report('1.0.0');
    expect(again.received.map((e) => e.params)).toEqual([{ version: '2.0.1' }]);
  });

  it('tries a failed version again once the hour has passed, not before', async () => {
    const device = connect();
    await report('1.0.0');
    await result(device.received[0], { error: { code: 'DOCKER_ERROR', message: 'The image could not be pulled: manifest unknown.' } });
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({ outcome: 'failed', rolledBack: [] });
    clock.ms += UPGRADE_INTERVAL_MS - 1;
    await report('1.0.0');
    expect(device.received).toHaveLength(1);
    clock.ms += 1;
    await report('1.0.0');
    expect(device.received).toHaveLength(2);
    expect((await hive.upgrades.describe(deviceId)).attempts.map((a) => a.outcome)).toEqual(['pending', 'failed']);
  });

  it('takes an attempt without an outcome for an hour as lost: the next one replaces it and it ends failed', async () => {
    const device = connect();
    await report('1.0.0');
    clock.ms += UPGRADE_INTERVAL_MS + 1;
    await report('1.0.0');
    expect(device.received).toHaveLength(2);
    const [latest, lost] = (await hive.upgrades.describe(deviceId)).attempts;
    expect(latest.outcome).toBe('pending');
    expect(lost).toMatchObject({
      outcome: 'failed',
      reason: { code: 'INTERNAL', message: expect.stringMatching(/No outcome came within 60 minutes/) },
    });
  });

  it('remembers attempts across a restart, so a restart sends no burst', async () => {
    connect();
    await report('1.0.0');
    restart();
    const device = connect();
    clock.ms += 60_000;
    await report('1.0.0');
    expect(device.received).toEqual([]);
  });

  it('records a command that could not be sent as a failed attempt, with its error', async () => {
    await report('1.0.0'); // the device is not connected
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({
      lastAttemptAt: '2026-11-25T10:00:00.000Z',
      lastCommandId: null,
      lastStatus: 'not_sent',
      lastError: { code: 'DEVICE_OFFLINE', message: expect.any(String) },
      outcome: 'failed',
    });
    const device = connect();
    await report('1.0.0');
    expect(device.received).toEqual([]); // still within the hour
  });

  it('keeps an attempt pending while its command got no acknowledgement: a late result still ends it', async () => {
    const device = connect();
    const envelopes: CommandEnvelope[] = [];
    device.emitWithAck = (_event, payload) => {
      envelopes.push(payload as CommandEnvelope);
      return Promise.reject(new Error('operation has timed out'));
    };
    await report('1.0.0');
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({ lastStatus: 'timeout', outcome: 'pending' });
    await result(envelopes[0], { result: { ...UPDATER, version: CURRENT } });
    expect(await hive.upgrades.describe(deviceId)).toMatchObject({ lastStatus: 'succeeded', outcome: 'succeeded' });
  });

  describe('an upgrade asked for through the API', () => {
    it('tries even a version the device rolled back, and is refused while another is under way', async () => {
      const device = connect();
      await report('1.0.0');
      await result(device.received[0], { error: rolledBack(CURRENT) });
      const attempt = await hive.upgrades.request(deviceId, {});
      expect(attempt).toMatchObject({
        requestedBy: 'api',
        fromVersion: '1.0.0',
        targetVersion: CURRENT,
        outcome: 'pending',
        commandId: device.received[1].id,
      });
      expect(device.received[1].params).toEqual({ version: CURRENT });
      await expect(hive.upgrades.request(deviceId, { version: '2.0.5' })).rejects.toMatchObject({ code: 'UPGRADE_IN_PROGRESS' });
    });

    it('names the version and image asked for', async () => {
      const device = connect();
      const versionReport = { at: clock.now().toISOString(), version: '1.0.0', autoUpdate: true };
      await hive.reports.store(deviceId, 'version', versionReport);
      await hive.upgrades.request(deviceId, { version: '3.0.0', image: 'registry.example/mosaic/device@sha256:' + 'c'.repeat(64) });
      expect(device.received[0].params).toEqual({ version: '3.0.0', image: 'registry.example/mosaic/device@sha256:' + 'c'.repeat(64) });
    });

    it('answers NOT_FOUND for an unknown device and records DEVICE_OFFLINE for one that is away', async () => {
      await expect(hive.upgrades.request(randomUUID(), {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await hive.upgrades.request(deviceId, {})).toMatchObject({ outcome: 'failed', reason: { code: 'DEVICE_OFFLINE' } });
    });
  });
});
