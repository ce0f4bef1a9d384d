import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds: a device answers within milliseconds on a LAN; a start may restore data for minutes. */
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RESULT_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** Seconds: a small app moves in a few seconds on a LAN; a large volume's restore takes minutes. */
const MOVE_BUCKETS = [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The Hive's Prometheus registry and the series recorded as things happen; the ones read from
 * state at scrape time are registered by the monitor module. A leaf: anything may record into it.
 */
@Injectable()
export class HiveMetrics {
  readonly registry = new Registry();

  /** Every command that settled, by its type and how it ended (succeeded, failed, refused, timeout). */
  readonly commands = new Counter({
    name: 'mosaic_hive_commands_total',
    help: 'Commands that settled, by type and outcome (succeeded, failed, refused, timeout).',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly ackLatency = new Histogram({
    name: 'mosaic_hive_command_ack_seconds',
    help: "Time from sending a command to the device's acknowledgement.",
    labelNames: ['type'] as const,
    buckets: ACK_BUCKETS,
    registers: [this.registry],
  });

  readonly resultLatency = new Histogram({
    name: 'mosaic_hive_command_result_seconds',
    help: "Time from a command's issue to its result.",
    labelNames: ['type'] as const,
    buckets: RESULT_BUCKETS,
    registers: [this.registry],
  });

  /** Each move that ended `running`: from the source's acknowledged stop to the target's start result. */
  readonly moveDowntime = new Histogram({
    name: 'mosaic_hive_move_downtime_seconds',
    help: "Moves that ended running: time from the source's acknowledged stop to the target's start result.",
    buckets: MOVE_BUCKETS,
    registers: [this.registry],
  });

  /** Each move that ended, by how (running, failed, cancelled): from its request to its end. */
  readonly moveTotal = new Histogram({
    name: 'mosaic_hive_move_total_seconds',
    help: 'Moves that ended, by final state (running, failed, cancelled): time from the request to the end.',
    labelNames: ['state'] as const,
    buckets: MOVE_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mosaic_hive_' });
  }
}
