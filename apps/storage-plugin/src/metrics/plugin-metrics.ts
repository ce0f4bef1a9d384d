import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The storage plugin's Prometheus registry and the series recorded as replications and restores
 * run; the per-volume gauges are read at scrape time (PluginGauges). A leaf: anything may record into it.
 */
@Injectable()
export class PluginMetrics {
  readonly registry = new Registry();

  readonly replications = new Counter({
    name: 'mosaic_storage_replications_total',
    help: 'Snapshots of volumes to their replicas, by outcome (ok, or the error code: REPLICATION_FAILED, NOT_WRITER).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly replicationDuration = new Histogram({
    name: 'mosaic_storage_replication_duration_seconds',
    help: 'How long a successful snapshot took.',
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  readonly replicatedBytes = new Counter({
    name: 'mosaic_storage_replicated_bytes_total',
    help: "Bytes the snapshots added to the replicas (restic's data_added, before compression).",
    registers: [this.registry],
  });

  readonly restores = new Counter({
    name: 'mosaic_storage_restores_total',
    help: 'Volumes restored from their replicas, by outcome (ok, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly restoredBytes = new Counter({
    name: 'mosaic_storage_restored_bytes_total',
    help: 'Bytes of file contents the successful restores wrote.',
    registers: [this.registry],
  });

  readonly replicaListings = new Counter({
    name: 'mosaic_storage_replica_listings_total',
    help: "Looks at a replica's snapshots, by source: restic (a restic run, which opens the repository's key), known (the store's snapshot ids unchanged since the plugin last listed them, read without restic) or store (the snapshots the plugin did not know read from their files, without restic).",
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mosaic_storage_' });
  }
}
