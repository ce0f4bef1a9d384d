import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '../database/sqlite-database';

/** Read-only counts across the Hive's tables, for the metrics a scrape reads. */
@Injectable()
export class HiveStatsRepository {
  constructor(private readonly db: SqliteDatabase) {}

  registeredDevices(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM devices').get() as { n: number }).n;
  }

  movesByState(): Array<{ state: string; n: number }> {
    return this.db.prepare('SELECT state, count(*) AS n FROM moves GROUP BY state').all() as Array<{ state: string; n: number }>;
  }

  /** Devices by the status of their latest upgrade attempt: its command's, or `not_sent` when none went out. */
  upgradesByStatus(): Array<{ status: string; n: number }> {
    return this.db
      .prepare(
        `SELECT coalesce(c.status, 'not_sent') AS status, count(*) AS n
         FROM device_upgrades u LEFT JOIN commands c ON c.id = u.last_command_id GROUP BY 1`,
      )
      .all() as Array<{ status: string; n: number }>;
  }

  /** When the Hive received each device's latest report of each kind. */
  reportReceipts(): Array<{ deviceId: string; kind: string; receivedAt: string }> {
    return this.db.prepare('SELECT device_id AS deviceId, kind, received_at AS receivedAt FROM reports').all() as Array<{
      deviceId: string;
      kind: string;
      receivedAt: string;
    }>;
  }
}
