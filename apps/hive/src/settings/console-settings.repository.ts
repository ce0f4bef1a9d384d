import { Injectable } from '@nestjs/common';
import { HiveDatabase } from '../database/database';

export interface ConsoleSettingsRecord {
  /** A volume whose last replica is older than this is shown with a warning. */
  replicationWarningMinutes: number;
  updatedAt: string;
}

/** The operator's settings: one row, written on first change. */
@Injectable()
export class ConsoleSettingsRepository {
  constructor(private readonly db: HiveDatabase) {}

  async find(): Promise<ConsoleSettingsRecord | undefined> {
    const row = await this.db.q.selectFrom('console_settings').selectAll().where('id', '=', 1).executeTakeFirst();
    return row && { replicationWarningMinutes: row.replication_warning_minutes, updatedAt: row.updated_at };
  }

  async save(settings: ConsoleSettingsRecord): Promise<void> {
    await this.db.q
      .insertInto('console_settings')
      .values({ id: 1, replication_warning_minutes: settings.replicationWarningMinutes, updated_at: settings.updatedAt })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          replication_warning_minutes: eb.ref('excluded.replication_warning_minutes'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
}
