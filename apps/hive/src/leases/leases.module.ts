import { Module } from '@nestjs/common';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { DatabaseModule } from '../database/database.module';
import { LeaseKeeper, leaseTiming } from './lease-keeper';
import { LeaseRepository } from './lease.repository';

/** Leases in the database (docs/architecture.md "Work shared between Hive processes"): one LeaseKeeper per process. */
@Module({
  imports: [DatabaseModule],
  providers: [
    LeaseRepository,
    { provide: LeaseKeeper, useFactory: (repo: LeaseRepository, config: HiveConfig) => new LeaseKeeper(repo, leaseTiming(config.leaseTtlMs)), inject: [LeaseRepository, HIVE_CONFIG] },
  ],
  exports: [LeaseKeeper, LeaseRepository],
})
export class LeasesModule {}
