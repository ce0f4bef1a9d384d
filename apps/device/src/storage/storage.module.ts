import { Module } from '@nestjs/common';
import { DockerModule } from '../docker/docker.module';
import { HiveModule } from '../hive/hive.module';
import { KeystoreModule } from '../keystore/keystore.module';
import { MetricsModule } from '../metrics/metrics.module';
import { StorageControlClient } from './storage-control.client';
import { StoragePluginInstaller } from './storage-plugin-installer.service';
import { StorageService } from './storage.service';

/** The storage plugin: keys registered in memory, volumes created and restored, replica state. */
@Module({
  imports: [DockerModule, HiveModule, KeystoreModule, MetricsModule],
  providers: [StorageControlClient, StorageService, StoragePluginInstaller],
  exports: [StorageService, StoragePluginInstaller],
})
export class StorageModule {}
