import { Logger } from '@nestjs/common';
import { CommandEnvelope, CommandType } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { CommandCompletions } from '../commands/command-completions';
import { CommandRepository } from '../commands/command.repository';
import { HiveMetrics } from '../metrics/hive-metrics';
import { CommandsService } from '../commands/commands.service';
import { Clock } from '../common/clock';
import { HiveConfig } from '../config/hive-config';
import { SqliteDatabase } from '../database/sqlite-database';
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
function hiveProcess(db: SqliteDatabase, clock: FakeClock) {
  const sessions = new DeviceSessionRegistry();
  const devices = new DevicesService(new DeviceRepository(db), sessions, new ReportsService(new ReportRepository(db)));
  const commands = new CommandsService(CONFIG, new CommandRepository(db), new CommandCompletions(), devices, sessions, new HiveMetrics());
  const reports = new ReportsService(new ReportRepository(db));
  const upgrades = new DeviceUpgradeService(CONFIG, new UpgradeRepository(db), commands, reports, clock);
  return { sessions, devices, commands, reports, upgrades };
}

describe('DeviceUpgradeService', () => {
  let db: SqliteDatabase;
  let clock: FakeClock;
  let hive: ReturnType<typeof hiveProcess>;
  let deviceId: string;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    db = new SqliteDatabase(':memory:');
    clock = new FakeClock();
    hive = hiveProcess(db, clock);
    deviceId = hive.devices.create('nas').id;
  });

  afterEach(() => db.close());

  function connect(): AcceptingDevice {
    const device = new AcceptingDevice(deviceId);
    hive.sessions.add(device);
    hive.sessions.authenticate(device);
    return device;
  }

  /** What the gateway does with a report.version: keep it, then hand the version over. */
  async function report(version: string): Promise<void> {
    const versionReport = { at: clock.now().toISOString(), version, autoUpdate: true };
    hive.reports.store(deviceId, 'version', versionReport);
    await hive.upgrades.versionReported(deviceId, version);
  }

  it('sends UpgradeCommand.run to a device reporting an older version, once within the hour', async () => {
    const device = connect();
    await report('1.9.9');
    clock.ms += UPGRADE_INTERVAL_MS - 1;
    await report('1.9.9');
    expect(device.received).toEqual([{ id: expect.any(String), type: CommandType.UpgradeRun, issuedAt: expect.any(String), params: {} }]);
    expect(hive.upgrades.describe(deviceId)).toEqual({
      currentVersion: CURRENT,
      reportedVersion: '1.9.9',
      lastAttemptAt: '2026-11-25T10:00:00.000Z',
      lastCommandId: device.received[0].id,
      lastStatus: 'accepted',
    });
  });

  it('tries again once the hour has passed', async () => {
    const device = connect();
    await report('1.0.0');
    clock.ms += UPGRADE_INTERVAL_MS;
    await report('2.0.0-rc.1');
    expect(device.received.map((envelope) => envelope.type)).toEqual([CommandType.UpgradeRun, CommandType.UpgradeRun]);
    expect(hive.upgrades.describe(deviceId)).toMatchObject({
      reportedVersion: '2.0.0-rc.1',
      lastAttemptAt: new Date(clock.ms).toISOString(),
      lastCommandId: device.received[1].id,
    });
  });

  it.each(['2.0.0', '2.0.0+build.5', '2.0.1', '10.0.0'])('leaves a device on %s alone', async (version) => {
    const device = connect();
    await report(version);
    expect(device.received).toEqual([]);
    expect(hive.upgrades.describe(deviceId)).toEqual({
      currentVersion: CURRENT,
      reportedVersion: version,
      lastAttemptAt: null,
      lastCommandId: null,
      lastStatus: null,
    });
  });

  it('remembers the last attempt across a restart, so a restart sends no burst', async () => {
    connect();
    await report('1.0.0');
    hive = hiveProcess(db, clock);
    const device = connect();
    clock.ms += 60_000;
    await report('1.0.0');
    expect(device.received).toEqual([]);
    clock.ms += UPGRADE_INTERVAL_MS;
    await report('1.0.0');
    expect(device.received).toHaveLength(1);
  });

  it('records a command that could not be sent as an attempt, with its error', async () => {
    await report('1.0.0'); // the device is not connected
    expect(hive.upgrades.describe(deviceId)).toEqual({
      currentVersion: CURRENT,
      reportedVersion: '1.0.0',
      lastAttemptAt: '2026-11-25T10:00:00.000Z',
      lastCommandId: null,
      lastStatus: 'not_sent',
      lastError: { code: 'DEVICE_OFFLINE', message: expect.any(String) },
    });
    const device = connect();
    await report('1.0.0');
    expect(device.received).toEqual([]); // still within the hour
  });

  it("shows the command's outcome once the device answered", async () => {
    const device = connect();
    await report('1.0.0');
    const [envelope] = device.received;
    const error = { code: 'NOT_IN_CONTAINER', message: 'The device does not run in a container.' };
    hive.commands.recordResult(deviceId, { id: envelope.id, type: envelope.type, ok: false, error, finishedAt: clock.now().toISOString() });
    expect(hive.upgrades.describe(deviceId)).toMatchObject({ lastStatus: 'failed', lastError: error });
  });
});
