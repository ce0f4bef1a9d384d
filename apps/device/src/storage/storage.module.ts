import { Module } from '@nestjs/common';
import { StorageService } from './storage.service';

/** The storage plugin: volumes and their replica state. */
@Module({ providers: [StorageService], exports: [StorageService] })
export class StorageModule {}
