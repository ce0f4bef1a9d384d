import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';

/**
 * When replications happen: a periodic tick every REPLICATION_INTERVAL_S, and per volume a retry
 * after a failure with exponential back-off (REPLICATION_RETRY_BASE_S doubling up to
 * REPLICATION_RETRY_MAX_S). What a tick or a retry does is the caller's.
 */
@Injectable()
export class ReplicationScheduler implements BeforeApplicationShutdown {
  private periodic?: NodeJS.Timeout;
  private readonly retries = new Map<string, { failures: number; timer?: NodeJS.Timeout }>();
  private stopped = false;

  constructor(@Inject(PLUGIN_CONFIG) private readonly config: PluginConfig) {}

  startPeriodic(tick: () => void): void {
    if (this.stopped) return;
    clearInterval(this.periodic);
    this.periodic = setInterval(tick, this.config.replicationIntervalS * 1000);
    this.periodic.unref();
  }

  /** Records a failure of `name` and runs `retry` after the back-off; returns the delay in ms. */
  retryLater(name: string, retry: () => void): number {
    const entry = this.retries.get(name) ?? { failures: 0 };
    clearTimeout(entry.timer);
    entry.failures += 1;
    const delayS = Math.min(this.config.retryMaxS, this.config.retryBaseS * 2 ** Math.min(entry.failures - 1, 30));
    this.retries.set(name, entry);
    if (!this.stopped) {
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        retry();
      }, delayS * 1000);
      entry.timer.unref();
    }
    return delayS * 1000;
  }

  /** A success (or a removed volume): no retry pending, the next failure starts from the base delay. */
  reset(name: string): void {
    clearTimeout(this.retries.get(name)?.timer);
    this.retries.delete(name);
  }

  retryPending(name: string): boolean {
    return this.retries.get(name)?.timer !== undefined;
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.periodic);
    for (const entry of this.retries.values()) clearTimeout(entry.timer);
  }
}
