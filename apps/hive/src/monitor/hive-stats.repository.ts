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

  /** Devices by the outcome of their latest upgrade attempt (pending, started, succeeded, rolled_back, failed). */
  upgradesByOutcome(): Array<{ outcome: string; n: number }> {
    return this.db
      .prepare(
        `SELECT outcome, count(*) AS n FROM upgrade_attempts a
         WHERE NOT EXISTS (SELECT 1 FROM upgrade_attempts b WHERE b.device_id = a.device_id
                           AND (b.requested_at > a.requested_at OR (b.requested_at = a.requested_at AND b.id > a.id)))
         GROUP BY outcome`,
      )
      .all() as Array<{ outcome: string; n: number }>;
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
