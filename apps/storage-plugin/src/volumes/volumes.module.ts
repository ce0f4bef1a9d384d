import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { ReplicationModule } from '../replication/replication.module';
import { VolumeStateStore } from './volume-state.store';
import { VolumesService } from './volumes.service';

/** The volumes: records and state file, data directories, mounts, lifecycle. */
@Module({ imports: [KeysModule, ReplicationModule], providers: [VolumeStateStore, VolumesService], exports: [VolumesService] })
export class VolumesModule {}
