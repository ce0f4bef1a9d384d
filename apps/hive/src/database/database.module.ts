import { Module } from '@nestjs/common';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { SqliteDatabase } from './sqlite-database';
import { WriteBatcher } from './write-batcher';

@Module({
  providers: [
    {
      provide: SqliteDatabase,
      useFactory: (config: HiveConfig) => new SqliteDatabase(config.dbPath),
      inject: [HIVE_CONFIG],
    },
    { provide: WriteBatcher, useFactory: (db: SqliteDatabase) => new WriteBatcher(db), inject: [SqliteDatabase] },
  ],
  exports: [SqliteDatabase, WriteBatcher],
})
export class DatabaseModule {}
