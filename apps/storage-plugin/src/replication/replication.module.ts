import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { MetricsModule } from '../metrics/metrics.module';
import { KeyStoreAdapter } from './key-store.adapter';
import { ReplicaKeysService } from './replica-keys.service';
import { ReplicationScheduler } from './replication-scheduler.service';
import { ReplicationService } from './replication.service';
import { ResticAdapter } from './restic.adapter';
import { SnapshotFilesService } from './snapshot-files.service';
import { SnapshotIdsAdapter } from './snapshot-ids.adapter';

/** restic behind its adapter, the replica workflows, and when they run. */
@Module({
  imports: [KeysModule, MetricsModule],
  providers: [ResticAdapter, SnapshotIdsAdapter, KeyStoreAdapter, ReplicaKeysService, SnapshotFilesService, ReplicationService, ReplicationScheduler],
  exports: [ReplicationService, ReplicationScheduler],
})
export class ReplicationModule {}
