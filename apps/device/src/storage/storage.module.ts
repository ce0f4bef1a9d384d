import { Module } from '@nestjs/common';
import { DockerModule } from '../docker/docker.module';
import { StorageService } from './storage.service';

/** The storage plugin: volumes and their replica state. */
@Module({ imports: [DockerModule], providers: [StorageService], exports: [StorageService] })
export class StorageModule {}
