import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppReportDto, CommandType, SchedulerStopParamsDto, StopReason, compareSemver, isSemver } from '@mosaic/protocol';
import { AppRepository } from '../apps/app.repository';
import { CommandsService } from '../commands/commands.service';
import { Clock } from '../common/clock';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { KeysService } from '../keys/keys.service';
import { MoveRepository } from './move.repository';

/** The first Device version that understands a stop's `reason` (docs/protocol.md §10); older ones get the stop without it. */
export const STOP_REASON_SINCE = '0.1.0';

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
export class StrayCopiesService {
  private readonly logger = new Logger('StrayCopies');
  /** When this process last sent a stop for each device's copy: at most one per command timeout. */
  private readonly lastSent = new Map<string, number>();

  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly apps: AppRepository,
    private readonly moves: MoveRepository,
    private readonly keys: KeysService,
    private readonly commands: CommandsService,
    private readonly clock: Clock,
  ) {}

  /** The copies in a device's report that should stop, and why. */
  async strays(deviceId: string, reported: readonly AppReportDto[]): Promise<StrayCopy[]> {
    const strays: StrayCopy[] = [];
    for (const app of reported) {
      if (app.state === 'stopped') continue;
      const reason = await this.reasonToStop(deviceId, app.instance);
      if (reason) strays.push({ instance: app.instance, reason });
    }
    return strays;
  }

  /** Sends SchedulerAction.stop `{ replicate: false, reason }` for each stray copy of the report; resolves once each was acknowledged (or not). */
  async reported(deviceId: string, deviceVersion: string, reported: readonly AppReportDto[]): Promise<void> {
    await Promise.all((await this.strays(deviceId, reported)).map((stray) => this.stop(deviceId, deviceVersion, stray)));
  }

  /**
   * The app first, the move only for a copy that would stop: a device's report of its own apps
   * (every report, the common case) costs one query per app, not two.
   */
  private async reasonToStop(deviceId: string, instance: string): Promise<StopReason | undefined> {
    const app = await this.apps.find(instance);
    let reason: StopReason | undefined;
    if (!app) reason = (await this.hasKeys(instance)) ? 'removed' : undefined;
    // An app without a device (its device was revoked) waits for a move: no copy is the wrong one yet.
    else if (app.deviceId !== null && app.deviceId !== deviceId) reason = 'moved';
    if (reason === undefined || (await this.moves.findUnfinished(instance))) return undefined;
    return reason;
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

  private async hasKeys(instance: string): Promise<boolean> {
    try {
      return (await this.keys.get(instance)).length > 0;
    } catch {
      return false;
    }
  }
}
