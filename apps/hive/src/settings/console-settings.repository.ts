import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '../database/sqlite-database';

export interface ConsoleSettingsRecord {
  /** A volume whose last replica is older than this is shown with a warning. */
  replicationWarningMinutes: number;
  updatedAt: string;
}

interface ConsoleSettingsRow {
  replication_warning_minutes: number;
  updated_at: string;
}

/** The operator's settings: one row, written on first change. */
@Injectable()
export class ConsoleSettingsRepository {
  constructor(private readonly db: SqliteDatabase) {}

  find(): ConsoleSettingsRecord | undefined {
    const row = this.db.prepare('SELECT * FROM console_settings WHERE id = 1').get() as ConsoleSettingsRow | undefined;
    return row && { replicationWarningMinutes: row.replication_warning_minutes, updatedAt: row.updated_at };
  }

  save(settings: ConsoleSettingsRecord): void {
    this.db
      .prepare(
        `INSERT INTO console_settings (id, replication_warning_minutes, updated_at) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET replication_warning_minutes = excluded.replication_warning_minutes, updated_at = excluded.updated_at`,
      )
      .run(settings.replicationWarningMinutes, settings.updatedAt);
  }
}
