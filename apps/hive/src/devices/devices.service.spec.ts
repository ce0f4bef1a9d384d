import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { HiveDatabase } from '../database/database';
import { ReportRepository } from '../reports/report.repository';
import { ReportsService } from '../reports/reports.service';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { openTestDatabase } from '../testing/test-database';
import { DeviceRepository } from './device.repository';
import { DevicesService } from './devices.service';

describe('DevicesService.recordAuthenticated (a passphrase proof)', () => {
  let db: HiveDatabase;
  let repository: DeviceRepository;
  let devices: DevicesService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await openTestDatabase();
    repository = new DeviceRepository(db);
    devices = new DevicesService(repository, new DeviceSessionRegistry(), new ReportsService(new ReportRepository(db)));
  });

  afterEach(async () => db.close());

  async function inserted(name: string): Promise<string> {
    const id = randomUUID();
    await repository.insert({ id, name, tokenHash: randomUUID(), createdAt: new Date().toISOString(), lastSeenAt: null, version: '0.0.1' });
    return id;
  }

  it("records a named device's version and last-seen time in one statement, and keeps its name", async () => {
    const id = await inserted('kitchen');
    const executed = jest.spyOn(db.q.getExecutor(), 'executeQuery');
    await devices.recordAuthenticated(id, '1.2.3', 'its-own-name', 'kitchen');
    expect(executed).toHaveBeenCalledTimes(1);
    executed.mockRestore();
    const stored = await repository.findById(id);
    expect(stored).toEqual(expect.objectContaining({ name: 'kitchen', version: '1.2.3', lastSeenAt: expect.any(String) }));
  });

  it('names a device the Hive had no name for after the name it gives', async () => {
    const id = await inserted('');
    await devices.recordAuthenticated(id, '1.2.3', 'its-own-name', '');
    expect(await repository.findById(id)).toEqual(expect.objectContaining({ name: 'its-own-name', version: '1.2.3' }));
  });
});
