import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * How often the event loop's delay is sampled for the `nodejs_eventloop_lag_*` metrics. prom-client
 * samples every 10 ms by default: a timer waking the process 100 times a second, about 0.5 % of a
 * core on this machine kind, most of what the Device at rest spends. Once a second is plenty for a
 * process that waits on other programs.
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;

/** The label of a command whose type Hive sent but the device does not know (kept bounded). */
export const UNKNOWN_COMMAND_TYPE = 'unknown';

/**
 * The device's Prometheus registry and the instruments that events feed: commands by type and
 * outcome, and the progress of volume restores. Gauges read from state at scrape time are added
 * by the monitor module. One registry per Device, so in-process tests do not share counters.
 */
@Injectable()
export class DeviceMetrics {
  readonly registry = new Registry();

  private readonly commands = new Counter({
    name: 'mosaic_device_commands_total',
    help: 'Commands from Hive by type and outcome: ok, or the error code of a refusal or failure.',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly commandSeconds = new Histogram({
    name: 'mosaic_device_command_duration_seconds',
    help: 'How long accepted commands ran, by type.',
    labelNames: ['type'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });

  private readonly restoreProgress = new Gauge({
    name: 'mosaic_device_restore_progress_ratio',
    help: 'Progress (0 to 1) of each volume being created or restored from its replica; absent when none runs.',
    labelNames: ['volume'] as const,
    registers: [this.registry],
  });

  private readonly restores = new Counter({
    name: 'mosaic_device_restores_total',
    help: 'Volumes created or restored through the storage plugin, by outcome (ok or failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mosaic_device_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }

  commandRefused(type: string, code: string): void {
    this.commands.inc({ type, outcome: code });
  }

  commandFinished(type: string, outcome: string, seconds: number): void {
    this.commands.inc({ type, outcome });
    this.commandSeconds.observe({ type }, seconds);
  }

  restoreStarted(volume: string): void {
    this.restoreProgress.set({ volume }, 0);
  }

  restoreAdvanced(volume: string, percent: number): void {
    this.restoreProgress.set({ volume }, Math.min(Math.max(percent, 0), 100) / 100);
  }

  restoreEnded(volume: string, ok: boolean): void {
    this.restoreProgress.remove({ volume });
    this.restores.inc({ outcome: ok ? 'ok' : 'failed' });
  }
}
