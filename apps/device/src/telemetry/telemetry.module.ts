import { Module } from '@nestjs/common';
import { AppsModule } from '../apps/apps.module';
import { HiveModule } from '../hive/hive.module';
import { StorageModule } from '../storage/storage.module';
import { DockerModule } from '../docker/docker.module';
import { TelemetryService } from './telemetry.service';

/** The reporters of docs/protocol.md §4. */
@Module({
  imports: [HiveModule, AppsModule, StorageModule, DockerModule],
  providers: [TelemetryService],
  exports: [TelemetryService],
})
export class TelemetryModule {}
