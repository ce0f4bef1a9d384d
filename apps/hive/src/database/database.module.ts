import { Module } from '@nestjs/common';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { SqliteDatabase } from './sqlite-database';

@Module({
  providers: [
    {
      provide: SqliteDatabase,
      useFactory: (config: HiveConfig) => new SqliteDatabase(config.dbPath),
      inject: [HIVE_CONFIG],
    },
  ],
  exports: [SqliteDatabase],
})
export class DatabaseModule {}
