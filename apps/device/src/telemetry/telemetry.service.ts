import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Events } from '@mosaic/protocol';
import { AppEventsService } from '../apps/app-events.service';
import { AppInventoryService } from '../apps/app-inventory.service';
import { Clock } from '../common/clock';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DEVICE_VERSION } from '../device-version';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { OutboxService } from '../hive/outbox.service';
import { StorageService } from '../storage/storage.service';
import { OwnContainerService } from '../docker/own-container.service';

/** §4: a change is reported within 2 s; changes closer together are folded into one report. */
export const CHANGE_REPORT_DELAY_MS = 1000;

/**
 * The periodic reports of §4 on their configured intervals, the immediate ones after each
 * accepted handshake, and a prompt `report.apps` after a change.
 */
@Injectable()
export class TelemetryService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Telemetry');
  private changeTimer?: NodeJS.Timeout;
  /** The periodic reports' timers: plain intervals (no scheduler module to load), cleared at shutdown. */
  private readonly intervals: NodeJS.Timeout[] = [];

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly hive: HiveConnectionService,
    private readonly outbox: OutboxService,
    private readonly apps: AppInventoryService,
    private readonly appEvents: AppEventsService,
    private readonly storage: StorageService,
    private readonly ownContainer: OwnContainerService,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.every(this.config.reportAppsIntervalS, () => this.reportApps());
    this.every(this.config.reportVolumesIntervalS, () => this.reportVolumes());
    if (this.config.autoUpdate) this.every(this.config.reportVersionIntervalS, () => this.reportVersion());
    this.appEvents.onChange((_instance, settled) => (settled ? this.reportAppsNow() : this.appsChanged()));
    this.hive.onAuthenticated(() => {
      void this.reportApps();
      void this.reportVolumes();
      if (this.config.autoUpdate) void this.reportVersion();
    });
  }

  onApplicationShutdown(): void {
    clearTimeout(this.changeTimer);
    for (const interval of this.intervals.splice(0)) clearInterval(interval);
  }

  /** Something changed: report within 2 s, once for a burst of changes. */
  appsChanged(): void {
    if (this.changeTimer) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      void this.reportApps();
    }, CHANGE_REPORT_DELAY_MS);
  }

  /** The device finished a start or stop: Hive hears of it, and of the volumes' state, at once. */
  reportAppsNow(): void {
    clearTimeout(this.changeTimer);
    this.changeTimer = undefined;
    void this.reportApps();
    void this.reportVolumes();
  }

  async reportApps(): Promise<void> {
    await this.report(Events.reportApps, async () => ({ at: this.now(), apps: await this.apps.apps() }));
  }

  async reportVolumes(): Promise<void> {
    await this.report(Events.reportVolumes, async () => ({ at: this.now(), volumes: await this.storage.volumes() }));
  }

  async reportVersion(): Promise<void> {
    await this.report(Events.reportVersion, async () => {
      const image = (await this.ownContainer.details().catch(() => undefined))?.image;
      return { at: this.now(), version: DEVICE_VERSION, ...(image ? { image } : {}), autoUpdate: true };
    });
  }

  private async report(event: typeof Events.reportApps | typeof Events.reportVolumes | typeof Events.reportVersion, build: () => Promise<object>): Promise<void> {
    let payload: object;
    try {
      payload = await build();
    } catch (err) {
      this.logger.warn(`cannot build ${event}: ${(err as Error).message}`);
      return;
    }
    await this.outbox.sendReport(event, payload);
  }

  /** Unref'd: the Hive connection keeps the process alive, a report timer alone must not. */
  private every(seconds: number, task: () => Promise<void>): void {
    this.intervals.push(setInterval(() => void task(), seconds * 1000).unref());
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
