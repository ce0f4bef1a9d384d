import { Module } from '@nestjs/common';
import { DockerModule } from '../docker/docker.module';
import { SystemModule } from '../system/system.module';
import { UpgradeService } from './upgrade.service';

/** Self-update through the updater container. */
@Module({ imports: [DockerModule, SystemModule], providers: [UpgradeService], exports: [UpgradeService] })
export class UpgradeModule {}
