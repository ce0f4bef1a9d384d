import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { COMPOSE_PROJECT_LABEL, instanceOfProject } from './app-inventory.service';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Tells listeners when an app changes: from the engine's container events (a crash, a restart
 * by hand) and from the device's own starts and stops.
 */
@Injectable()
export class AppEventsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AppEvents');
  private readonly listeners: Array<(instance: string, settled: boolean) => void> = [];
  private stopWatching?: () => void;
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RETRY_MIN_MS;
  private closed = false;

  constructor(private readonly engine: DockerEngineAdapter) {}

  /** `settled` is true when the device itself finished changing the app (worth reporting at once). */
  onChange(listener: (instance: string, settled: boolean) => void): void {
    this.listeners.push(listener);
  }

  changed(instance: string, settled = false): void {
    for (const listener of this.listeners) listener(instance, settled);
  }

  onApplicationBootstrap(): void {
    void this.watch();
  }

  onApplicationShutdown(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stopWatching?.();
  }

  private async watch(): Promise<void> {
    if (this.closed) return;
    try {
      const stop = await this.engine.watchContainers(
        COMPOSE_PROJECT_LABEL,
        (event) => {
          this.retryMs = RETRY_MIN_MS;
          const instance = instanceOfProject(event.labels[COMPOSE_PROJECT_LABEL] ?? '');
          if (instance) this.changed(instance);
        },
        (err) => this.retry(err),
      );
      // The device may have shut down while the engine was being asked.
      if (this.closed) stop();
      else this.stopWatching = stop;
    } catch (err) {
      this.retry(err as Error);
    }
  }

  private retry(err?: Error): void {
    if (this.closed) return;
    this.logger.warn(`engine events stopped${err ? `: ${err.message}` : ''}; following again in ${this.retryMs / 1000} s`);
    this.retryTimer = setTimeout(() => void this.watch(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}
