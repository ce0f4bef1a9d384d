import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { shareInFlight } from '@mosaic/ops';
import { Clock } from '../common/clock';
import { PLUGIN_VERSION } from '../common/plugin-version';
import { KeyRegistry } from '../keys/key-registry.service';
import { VolumesService } from '../volumes/volumes.service';
import { PluginMetrics } from './plugin-metrics';

/** The per-volume gauges, read from the volumes when Prometheus scrapes. */
@Injectable()
export class PluginGauges implements OnModuleInit {
  constructor(
    private readonly metrics: PluginMetrics,
    private readonly volumes: VolumesService,
    private readonly keys: KeyRegistry,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const { volumes, keys, clock } = this;
    // One listing per scrape, shared by the two per-volume gauges.
    const list = shareInFlight(() => volumes.list());
    new Gauge({ name: 'mosaic_storage_info', help: "Always 1; the label names the plugin's version.", labelNames: ['version'] as const, registers }).set(
      { version: PLUGIN_VERSION },
      1,
    );
    new Gauge({
      name: 'mosaic_storage_volumes',
      help: 'Volumes this plugin serves.',
      registers,
      collect() {
        this.set(volumes.count());
      },
    });
    new Gauge({
      name: 'mosaic_storage_keys',
      help: 'Private keys registered (in memory) by the Device.',
      registers,
      collect() {
        this.set(keys.fingerprints().length);
      },
    });
    new Gauge({
      name: 'mosaic_storage_volume_replication_lag_seconds',
      help: "Seconds since each volume's newest replica; absent until its first replica exists.",
      labelNames: ['volume'] as const,
      registers,
      async collect() {
        const now = clock.now().getTime();
        this.reset();
        for (const v of await list()) {
          if (v.lastReplicatedAt) this.set({ volume: v.name }, Math.max(0, (now - Date.parse(v.lastReplicatedAt)) / 1000));
        }
      },
    });
    new Gauge({
      name: 'mosaic_storage_volume_replication_error',
      help: "1 when the volume's last replication failed.",
      labelNames: ['volume'] as const,
      registers,
      async collect() {
        this.reset();
        for (const v of await list()) this.set({ volume: v.name }, v.replication.state === 'error' ? 1 : 0);
      },
    });
  }
}
