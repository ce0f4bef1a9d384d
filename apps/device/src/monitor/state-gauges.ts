import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { shareInFlight } from '@mosaic/ops';
import { Clock } from '../common/clock';
import { StateStore } from '../common/state-store';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { OutboxService } from '../hive/outbox.service';
import { DeviceMetrics } from '../metrics/device-metrics';
import { StorageService } from '../storage/storage.service';
import { DeviceHealthService } from './device-health.service';

/**
 * The gauges read from the device's state when Prometheus scrapes: the link to Hive, the outbox,
 * the storage plugin, and how old each volume's newest replica is.
 */
@Injectable()
export class StateGauges implements OnModuleInit {
  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly metrics: DeviceMetrics,
    private readonly hive: HiveConnectionService,
    private readonly outbox: OutboxService,
    private readonly storage: StorageService,
    private readonly clock: Clock,
    private readonly state: StateStore,
    private readonly health: DeviceHealthService,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const { hive, outbox, clock, state, health } = this;
    new Gauge({
      name: 'mosaic_device_info',
      help: 'Always 1; the labels name the device and its version.',
      labelNames: ['version', 'name'] as const,
      registers,
    }).set({ version: DEVICE_VERSION, name: this.config.deviceName }, 1);
    new Gauge({
      name: 'mosaic_device_hive_connected',
      help: '1 while the socket.io link to Hive is up.',
      registers,
      collect() {
        this.set(hive.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mosaic_device_hive_authenticated',
      help: '1 while Hive has accepted the passphrase proof.',
      registers,
      collect() {
        this.set(hive.authenticated ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mosaic_device_outbox_depth',
      help: 'Reports and command results waiting for Hive to acknowledge them.',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const depth = outbox.depthByKind();
        this.set({ kind: 'report' }, depth.report);
        this.set({ kind: 'result' }, depth.result);
      },
    });
    new Gauge({
      name: 'mosaic_device_engine_up',
      help: '1 when the Docker engine answers within 2 s.',
      registers,
      async collect() {
        this.set((await health.engineStatus()).reachable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mosaic_device_state_dir_writable',
      help: '0 while the last write of a file in STATE_DIR failed (a full or read-only disk), else 1.',
      registers,
      collect() {
        this.set(state.status().writable ? 1 : 0);
      },
    });
    // The three storage gauges are collected side by side; one plugin call per scrape feeds them all.
    const status = shareInFlight(() => this.storage.status());
    new Gauge({
      name: 'mosaic_device_storage_plugin_up',
      help: '1 when the storage plugin answers on its control socket.',
      registers,
      async collect() {
        this.set((await status()).reachable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mosaic_device_volume_replication_lag_seconds',
      help: 'Seconds since the newest replica of each volume; absent until its first replica exists.',
      labelNames: ['volume', 'instance', 'role'] as const,
      registers,
      async collect() {
        const { volumes } = await status();
        const now = clock.now().getTime();
        this.reset();
        for (const v of volumes) {
          if (v.lastReplicatedAt) this.set({ volume: v.name, instance: v.instance, role: v.role }, Math.max(0, (now - Date.parse(v.lastReplicatedAt)) / 1000));
        }
      },
    });
    new Gauge({
      name: 'mosaic_device_volume_replication_error',
      help: '1 when the last replication of the volume failed or the plugin does not answer.',
      labelNames: ['volume', 'instance', 'role'] as const,
      registers,
      async collect() {
        const current = await status();
        this.reset();
        for (const v of current.volumes) {
          this.set({ volume: v.name, instance: v.instance, role: v.role }, current.reachable && v.replication.state !== 'error' ? 0 : 1);
        }
      },
    });
  }
}
