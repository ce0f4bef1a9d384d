import { Module } from '@nestjs/common';
import { DockerModule } from '../docker/docker.module';
import { StorageModule } from '../storage/storage.module';
import { HostSystemAdapter } from './host-system.adapter';
import { SystemInfoService } from './system-info.service';

/** Host facts for the system commands. */
@Module({
  imports: [DockerModule, StorageModule],
  providers: [HostSystemAdapter, SystemInfoService],
  exports: [SystemInfoService, HostSystemAdapter],
})
export class SystemModule {}
