import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppReportDto, CommandType, SchedulerStopParamsDto, StopReason, compareSemver, isSemver } from '@mosaic/protocol';
import { AppRepository } from '../apps/app.repository';
import { CommandsService } from '../commands/commands.service';
import { Clock } from '../common/clock';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { HiveDatabase } from '../database/database';
import { KeysService } from '../keys/keys.service';
import { MoveRepository } from './move.repository';

/**
 * How long the first report waiting for a stray-copy check waits for others to share its reads.
 * The check runs after the report's ack, so no device waits on it; with thousands of devices a
 * window of this length turns a read or two per report into a read or two per window.
 */
export const STRAY_CHECK_WINDOW_MS = 50;

/** The first Device version that understands a stop's `reason` (docs/protocol.md §10); older ones get the stop without it. */
export const STOP_REASON_SINCE = '0.1.0';

interface PendingReport {
  deviceId: string;
  deviceVersion: string;
  apps: readonly AppReportDto[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** What the Hive decided about one reported copy. */
export interface StrayCopy {
  instance: string;
  reason: StopReason;
}

/**
 * Copies of apps on devices that no longer own them (docs/protocol.md §2.4): a device that comes
 * back after its app moved elsewhere (a forced move while it was offline), or was removed, still
 * runs its copy. On each report.apps the Hive stops every such copy that is not stopped, without a
 * replication (the replica is the new owner's), saying why. A copy is left alone while its app
 * has a move under way (the move's own stop and start decide), and an instance the Hive never
 * knew (no app, no keys) is not the Hive's to stop.
 */
@Injectable()
export class StrayCopiesService implements OnApplicationShutdown {
  private readonly logger = new Logger('StrayCopies');
  /** When this process last sent a stop for each device's copy: at most one per command timeout. */
  private readonly lastSent = new Map<string, number>();
  /** Reports waiting for the next check. */
  private pending: PendingReport[] = [];
  private checkTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly apps: AppRepository,
    private readonly moves: MoveRepository,
    private readonly keys: KeysService,
    private readonly commands: CommandsService,
    private readonly clock: Clock,
    private readonly db: HiveDatabase,
  ) {}

  /** The copies in a device's report that should stop, and why. */
  async strays(deviceId: string, reported: readonly AppReportDto[]): Promise<StrayCopy[]> {
    return (await this.straysOf([{ deviceId, apps: reported }]))[0];
  }

  /**
   * Sends SchedulerAction.stop `{ replicate: false, reason }` for each stray copy of the report;
   * resolves once each was acknowledged (or not). The reports that come within
   * STRAY_CHECK_WINDOW_MS of the first are checked together (`straysOf`), so a Hive with thousands
   * of devices reads its apps once per window, not once per report.
   */
  reported(deviceId: string, deviceVersion: string, reported: readonly AppReportDto[]): Promise<void> {
    if (!reported.some((app) => app.state !== 'stopped')) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ deviceId, deviceVersion, apps: reported, resolve, reject });
      // Not in the transaction (if any) of whoever reported first: the check is for all of the window's reports.
      if (this.pending.length === 1) {
        this.checkTimer = this.db.detached(() => setTimeout(() => void this.checkPending(), STRAY_CHECK_WINDOW_MS));
      }
    });
  }

  /** Reports still waiting are answered unchecked: a stopping Hive sends no more stops (the next report is checked again). */
  onApplicationShutdown(): void {
    clearTimeout(this.checkTimer);
    for (const report of this.pending.splice(0)) report.resolve();
  }

  private async checkPending(): Promise<void> {
    this.checkTimer = undefined;
    const batch = this.pending.splice(0);
    let found: StrayCopy[][];
    try {
      found = await this.straysOf(batch);
    } catch (err) {
      for (const report of batch) report.reject(err);
      return;
    }
    await Promise.all(
      batch.map(async (report, i) => {
        await Promise.all(found[i].map((stray) => this.stop(report.deviceId, report.deviceVersion, stray)));
        report.resolve();
      }),
    );
  }

  /**
   * The stray copies of each report. The apps first (one query for all the reports' copies that
   * are not stopped), then the keys of the instances without an app (one more query, only for
   * those), and an unfinished move only for a copy that would stop: a device's report of its own
   * apps (every report, the common case) costs no query of its own.
   */
  private async straysOf(reports: readonly { deviceId: string; apps: readonly AppReportDto[] }[]): Promise<StrayCopy[][]> {
    const running = reports.map((report) => report.apps.filter((app) => app.state !== 'stopped').map((app) => app.instance));
    const instances = running.flat();
    if (!instances.length) return reports.map(() => []);
    const owners = await this.apps.ownersOf(instances);
    const keyed = await this.keys.withKeys(instances.filter((instance) => !owners.has(instance)));
    const found: StrayCopy[][] = [];
    for (const [i, { deviceId }] of reports.entries()) {
      const strays: StrayCopy[] = [];
      for (const instance of running[i]) {
        let reason: StopReason | undefined;
        const owner = owners.get(instance);
        if (owner === undefined) reason = keyed.has(instance) ? 'removed' : undefined;
        // An app without a device (its device was revoked) waits for a move: no copy is the wrong one yet.
        else if (owner !== null && owner !== deviceId) reason = 'moved';
        if (reason !== undefined && !(await this.moves.findUnfinished(instance))) strays.push({ instance, reason });
      }
      found.push(strays);
    }
    return found;
  }

  private async stop(deviceId: string, deviceVersion: string, { instance, reason }: StrayCopy): Promise<void> {
    const key = `${deviceId}/${instance}`;
    const now = this.clock.now().getTime();
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < this.config.commandTimeoutS * 1000) return;
    this.lastSent.set(key, now);
    const withReason = isSemver(deviceVersion) && compareSemver(deviceVersion, STOP_REASON_SINCE) >= 0;
    const params: SchedulerStopParamsDto = { instance, replicate: false, ...(withReason ? { reason } : {}) };
    this.logger.warn(`device ${deviceId} runs a copy of app ${instance}, which was ${reason === 'moved' ? 'moved to another device' : 'removed'}: stopping it there`);
    try {
      const outcome = await this.commands.send(deviceId, CommandType.SchedulerStop, params, { wait: false });
      if (!outcome.command.ack?.accepted) {
        this.lastSent.delete(key);
        this.logger.warn(`device ${deviceId} did not take the stop of its copy of ${instance}: ${outcome.command.error?.code ?? outcome.command.status}`);
      }
    } catch (err) {
      this.lastSent.delete(key);
      this.logger.warn(`the stop of device ${deviceId}'s copy of ${instance} could not be sent: ${(err as Error).message}`);
    }
  }
}
