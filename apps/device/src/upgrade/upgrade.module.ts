import { Module } from '@nestjs/common';
import { join } from 'node:path';
import { StateFileAdapter } from '../common/state-file.adapter';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DockerModule } from '../docker/docker.module';
import { HiveModule } from '../hive/hive.module';
import { StorageModule } from '../storage/storage.module';
import { SystemModule } from '../system/system.module';
import { UpgradeRecordStore } from './upgrade-record.store';
import { UpgradeService } from './upgrade.service';
import { WatchtowerLauncher } from './watchtower.launcher';

/** Self-update: Mosaic's updater (with rollback) or Watchtower, and the upgrade's records in STATE_DIR/upgrade. */
@Module({
  imports: [DockerModule, StorageModule, SystemModule, HiveModule],
  providers: [
    UpgradeService,
    WatchtowerLauncher,
    {
      provide: UpgradeRecordStore,
      useFactory: (config: DeviceConfig, files: StateFileAdapter) => new UpgradeRecordStore(join(config.stateDir, 'upgrade'), files),
      inject: [DEVICE_CONFIG, StateFileAdapter],
    },
  ],
  exports: [UpgradeService],
})
export class UpgradeModule {}
