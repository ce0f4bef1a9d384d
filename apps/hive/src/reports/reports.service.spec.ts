import { Logger } from '@nestjs/common';
import { sql } from 'kysely';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { DeviceRepository } from '../devices/device.repository';
import { appsReport } from '../testing/fixtures';
import { ReportRepository } from './report.repository';
import { ReportsService } from './reports.service';

const DEVICE = '0e8f5d3c-9a4b-4f6e-8c2d-1a2b3c4d5e6f';

describe('ReportsService', () => {
  let db: HiveDatabase;
  let reports: ReportsService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await openTestDatabase();
    await new DeviceRepository(db).insert({
      id: DEVICE,
      name: 'd',
      tokenHash: 'h',
      createdAt: new Date().toISOString(),
      lastSeenAt: null,
      version: null,
    });
    reports = new ReportsService(new ReportRepository(db));
  });

  afterEach(async () => db.close());

  it('starts with nothing of any kind', async () => {
    expect(await reports.latest(DEVICE)).toEqual({
      apps: null,
      volumes: null,
      version: null,
      receivedAt: { apps: null, volumes: null, version: null },
    });
  });

  it('keeps the newer report by its own time, fractions of seconds included', async () => {
    const newer = appsReport('2026-11-25T10:00:00.500Z');
    const older = appsReport('2026-11-25T10:00:00Z');
    expect(await reports.store(DEVICE, 'apps', newer)).toBe(true);
    expect(await reports.store(DEVICE, 'apps', older)).toBe(false);
    expect((await reports.latest(DEVICE)).apps).toEqual(newer);

    const newest = appsReport('2026-11-25T10:00:01Z');
    expect(await reports.store(DEVICE, 'apps', newest)).toBe(true);
    expect((await reports.latest(DEVICE)).apps).toEqual(newest);
    expect((await reports.latest(DEVICE)).receivedAt.apps).toEqual(expect.any(String));
  });

  it('stores several reports at once, each kept or not as one at a time would, a device twice in one call included', async () => {
    const other = '1e8f5d3c-9a4b-4f6e-8c2d-1a2b3c4d5e6f';
    await new DeviceRepository(db).insert({ id: other, name: 'o', tokenHash: 'h2', createdAt: new Date().toISOString(), lastSeenAt: null, version: null });
    const at5 = appsReport('2026-11-25T10:00:05Z');
    const at3 = appsReport('2026-11-25T10:00:03Z');
    const volumes = { at: '2026-11-25T10:00:00Z', volumes: [] };
    expect(await reports.store(DEVICE, 'apps', at5)).toBe(true);
    const kept = await reports.storeMany([
      { deviceId: DEVICE, kind: 'apps', report: appsReport('2026-11-25T10:00:01Z') }, // older than the kept one
      { deviceId: other, kind: 'apps', report: appsReport('2026-11-25T10:00:02Z') },
      { deviceId: other, kind: 'apps', report: appsReport('2026-11-25T10:00:01Z') }, // older than the one before it
      { deviceId: other, kind: 'apps', report: at3 },
      { deviceId: DEVICE, kind: 'volumes', report: volumes },
    ]);
    expect(kept).toEqual([false, true, false, true, true]);
    expect((await reports.latest(DEVICE)).apps).toEqual(at5);
    expect((await reports.latest(other)).apps).toEqual(at3);
    expect((await reports.latest(DEVICE)).volumes).toEqual(volumes);
    expect(await reports.storeMany([])).toEqual([]);
  });

  it('counts the devices of stored reports as seen, in the same write, kept or not', async () => {
    const devices = new DeviceRepository(db);
    const other = '2e8f5d3c-9a4b-4f6e-8c2d-1a2b3c4d5e6f';
    await devices.insert({ id: other, name: 'o', tokenHash: 'h3', createdAt: new Date().toISOString(), lastSeenAt: null, version: null });
    await reports.store(DEVICE, 'apps', appsReport('2026-11-25T10:00:05Z'));
    const before = Date.now();
    // One round (a single statement on PostgreSQL), then two rounds (the same device and kind twice).
    expect(await reports.storeMany([{ deviceId: DEVICE, kind: 'apps', report: appsReport('2026-11-25T10:00:01Z') }])).toEqual([false]);
    const seen = (id: string) => devices.findById(id).then((d) => (d?.lastSeenAt ? Date.parse(d.lastSeenAt) : null));
    expect(await seen(DEVICE)).toBeGreaterThanOrEqual(before - 1000);
    expect(await seen(other)).toBeNull();
    expect(
      await reports.storeMany([
        { deviceId: other, kind: 'apps', report: appsReport('2026-11-25T10:00:01Z') },
        { deviceId: other, kind: 'apps', report: appsReport('2026-11-25T10:00:02Z') },
      ]),
    ).toEqual([true, true]);
    expect(await seen(other)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('a failed write of several reports stores nothing and counts no device as seen', async () => {
    // The devices' update is refused, after the reports' upsert (SQLite) or within its statement (PostgreSQL).
    if (db.kind === 'sqlite') {
      await sql`CREATE TRIGGER refuse_seen BEFORE UPDATE ON devices BEGIN SELECT RAISE(ABORT, 'seen refused'); END`.execute(db.q);
    } else {
      await sql`CREATE FUNCTION refuse_seen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'seen refused'; END $$`.execute(db.q);
      await sql`CREATE TRIGGER refuse_seen BEFORE UPDATE ON devices FOR EACH ROW EXECUTE FUNCTION refuse_seen()`.execute(db.q);
    }
    const other = '3e8f5d3c-9a4b-4f6e-8c2d-1a2b3c4d5e6f';
    await new DeviceRepository(db).insert({ id: other, name: 'o', tokenHash: 'h4', createdAt: new Date().toISOString(), lastSeenAt: null, version: null });
    for (const batch of [
      [{ deviceId: DEVICE, kind: 'apps' as const, report: appsReport('2026-11-25T10:00:01Z') }], // one statement on PostgreSQL
      [
        { deviceId: DEVICE, kind: 'apps' as const, report: appsReport('2026-11-25T10:00:01Z') },
        { deviceId: DEVICE, kind: 'apps' as const, report: appsReport('2026-11-25T10:00:02Z') }, // a second round
        { deviceId: other, kind: 'volumes' as const, report: { at: '2026-11-25T10:00:00Z', volumes: [] } },
      ],
    ]) {
      // Matched on the message: an error better-sqlite3 made for an earlier spec file of this
      // worker is of that file's realm, which Jest's toThrow does not take for an error.
      await expect(reports.storeMany(batch).then(() => 'stored', (err: Error) => err.message)).resolves.toMatch(/seen refused/);
    }
    expect(await reports.latest(DEVICE)).toMatchObject({ apps: null, volumes: null });
    expect(await reports.latest(other)).toMatchObject({ apps: null, volumes: null });
  });

  it('keeps each kind apart', async () => {
    await reports.store(DEVICE, 'version', { at: '2026-11-25T10:00:00Z', version: '1.0.0', autoUpdate: true } as never);
    expect(await reports.latest(DEVICE)).toMatchObject({ apps: null, version: { version: '1.0.0' } });
  });
});
