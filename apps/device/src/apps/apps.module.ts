import { Module } from '@nestjs/common';
import { DockerModule } from '../docker/docker.module';
import { AppFilesAdapter } from './app-files.adapter';
import { AppInventoryService } from './app-inventory.service';

/** The apps' lifecycle and what the engine says about them. */
@Module({
  imports: [DockerModule],
  providers: [AppFilesAdapter, AppInventoryService],
  exports: [AppInventoryService],
})
export class AppsModule {}
