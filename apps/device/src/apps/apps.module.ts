import { Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DockerModule } from '../docker/docker.module';
import { KeystoreModule } from '../keystore/keystore.module';
import { StorageModule } from '../storage/storage.module';
import { AppEventsService } from './app-events.service';
import { AppFilesAdapter } from './app-files.adapter';
import { AppInventoryService } from './app-inventory.service';
import { AppLifecycleService } from './app-lifecycle.service';

/** The apps' lifecycle and what the engine says about them. */
@Module({
  imports: [DockerModule, KeystoreModule, StorageModule],
  providers: [AppFilesAdapter, AppInventoryService, AppEventsService, AppLifecycleService],
  exports: [AppInventoryService, AppEventsService, AppLifecycleService],
})
export class AppsModule implements OnApplicationBootstrap {
  constructor(private readonly lifecycle: AppLifecycleService) {}

  /** Boot: apps that should run are brought up again, whether or not Hive is reachable. */
  onApplicationBootstrap(): void {
    void this.lifecycle.reconcile().catch((err: Error) => new Logger('Apps').error(`the apps could not be brought back up at boot: ${err.message}`));
  }
}
