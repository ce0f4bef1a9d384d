import { Module } from '@nestjs/common';
import { DockerModule } from '../docker/docker.module';
import { StorageModule } from '../storage/storage.module';
import { SystemModule } from '../system/system.module';
import { UpgradeService } from './upgrade.service';

/** Self-update through the updater container. */
@Module({ imports: [DockerModule, StorageModule, SystemModule], providers: [UpgradeService], exports: [UpgradeService] })
export class UpgradeModule {}
