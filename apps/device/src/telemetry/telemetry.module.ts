import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { HiveModule } from '../hive/hive.module';
import { StorageModule } from '../storage/storage.module';
import { UpgradeModule } from '../upgrade/upgrade.module';
import { TelemetryService } from './telemetry.service';

/** The reporters of PROTOCOL.md §4. */
@Module({
  imports: [HiveModule, AppsModule, StorageModule, UpgradeModule],
  providers: [TelemetryService],
  exports: [TelemetryService],
})
export class TelemetryModule {}
