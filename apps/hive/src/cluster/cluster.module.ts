import { Global, Module } from '@nestjs/common';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { HiveDatabase } from '../database/database';
import { DatabaseModule } from '../database/database.module';
import { ChangeRelay } from './change-relay';
import { ClusterBus, LocalClusterBus } from './cluster-bus';

/**
 * The Hive cluster (docs/architecture.md "The Hive cluster"): with PostgreSQL, the bus between
 * this process and the others on the same database, and the relay of Console changes; with
 * SQLite, a bus that sends nothing (one process, nothing more loaded). Global: the session
 * registry, the commands and the gateway all use the one bus.
 */
@Global()
@Module({
  imports: [DatabaseModule],
  providers: [
    {
      provide: ClusterBus,
      // After the store: its migrations make the adapter's table. The adapter is loaded only for PostgreSQL.
      useFactory: async (config: HiveConfig, db: HiveDatabase): Promise<ClusterBus> => {
        if (db.kind !== 'postgres' || !config.databaseUrl) return new LocalClusterBus();
        const { PostgresClusterBus } = await import('./postgres-cluster-bus');
        return new PostgresClusterBus(config.databaseUrl);
      },
      inject: [HIVE_CONFIG, HiveDatabase],
    },
    ChangeRelay,
  ],
  exports: [ClusterBus],
})
export class ClusterModule {}
