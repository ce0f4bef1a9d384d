import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { Clock } from '../common/clock';
import { HIVE_VERSION } from '../common/hive-version';
import { HiveMetrics } from '../metrics/hive-metrics';
import { MOVE_STATES } from '../moves/move.repository';
import { REPORT_KINDS } from '../reports/reports.service';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { HiveStatsRepository } from './hive-stats.repository';

/**
 * The gauges read from the Hive's state when Prometheus scrapes: devices, how old the reports of
 * the connected ones are, moves by state, devices by the outcome of their latest upgrade. Device
 * ids are left out on purpose: /metrics needs no token.
 */
@Injectable()
export class HiveGauges implements OnModuleInit {
  constructor(
    private readonly metrics: HiveMetrics,
    private readonly sessions: DeviceSessionRegistry,
    private readonly stats: HiveStatsRepository,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const { sessions, stats, clock } = this;
    new Gauge({ name: 'mosaic_hive_info', help: "Always 1; the label names the Hive's version.", labelNames: ['version'] as const, registers }).set(
      { version: HIVE_VERSION },
      1,
    );
    new Gauge({
      name: 'mosaic_hive_devices',
      help: 'Devices by state: registered (in the database), connected (a connection whose token was accepted), authenticated (it also proved the passphrase).',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const census = sessions.census();
        this.set({ state: 'registered' }, await stats.registeredDevices());
        this.set({ state: 'connected' }, census.online.length);
        this.set({ state: 'authenticated' }, census.authenticated);
      },
    });
    new Gauge({
      name: 'mosaic_hive_report_age_max_seconds',
      help: "Seconds since the Hive received the latest report of each kind, for the connected device that sent one longest ago; absent while no connected device sent that kind.",
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        const connected = new Set(sessions.census().online);
        const now = clock.now().getTime();
        const oldest = new Map<string, number>();
        for (const { deviceId, kind, receivedAt } of await stats.reportReceipts()) {
          if (!connected.has(deviceId)) continue;
          const age = Math.max(0, (now - Date.parse(receivedAt)) / 1000);
          oldest.set(kind, Math.max(age, oldest.get(kind) ?? 0));
        }
        this.reset();
        for (const kind of REPORT_KINDS) if (oldest.has(kind)) this.set({ kind }, oldest.get(kind)!);
      },
    });
    new Gauge({
      name: 'mosaic_hive_moves',
      help: 'Moves by state (stopping, replicated, restoring: under way; running, failed: ended).',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const counted = new Map((await stats.movesByState()).map((r) => [r.state, r.n]));
        for (const state of MOVE_STATES) this.set({ state }, counted.get(state) ?? 0);
      },
    });
    new Gauge({
      name: 'mosaic_hive_device_upgrades',
      help: 'Devices by the outcome of their latest upgrade attempt (pending, started, succeeded, rolled_back, failed).',
      labelNames: ['outcome'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { outcome, n } of await stats.upgradesByOutcome()) this.set({ outcome }, n);
      },
    });
  }
}
