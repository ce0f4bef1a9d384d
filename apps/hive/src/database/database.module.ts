import { Logger, Module } from '@nestjs/common';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { HiveDatabase } from './database';
import { PostgresDatabase } from './postgres-database';
import { SqliteDatabase } from './sqlite-database';
import { WriteBatcher } from './write-batcher';

/** PostgreSQL when HIVE_DATABASE_URL is set, else the SQLite file at HIVE_DB; the schema is brought up to date before anything uses it. */
export function openHiveDatabase(config: Pick<HiveConfig, 'dbPath' | 'databaseUrl'>, logger = new Logger('Database')): Promise<HiveDatabase> {
  return config.databaseUrl ? PostgresDatabase.open(config.databaseUrl, { logger }) : SqliteDatabase.open(config.dbPath, logger);
}

/**
 * The store (docs/architecture.md "The store"): HiveDatabase (the Kysely instance, `q`, and
 * transactions) for the repositories, and the WriteBatcher for reports.
 */
@Module({
  providers: [
    { provide: HiveDatabase, useFactory: (config: HiveConfig) => openHiveDatabase(config), inject: [HIVE_CONFIG] },
    { provide: WriteBatcher, useFactory: (db: HiveDatabase) => new WriteBatcher(db), inject: [HiveDatabase] },
  ],
  exports: [HiveDatabase, WriteBatcher],
})
export class DatabaseModule {}
