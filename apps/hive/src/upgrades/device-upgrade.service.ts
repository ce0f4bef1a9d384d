import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandType, ProtocolError, compareSemver, isSemver } from '@mosaic/protocol';
import { CommandStatus } from '../commands/command.repository';
import { CommandsService } from '../commands/commands.service';
import { Clock } from '../common/clock';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { ReportsService } from '../reports/reports.service';
import { UpgradeRepository } from './upgrade.repository';

/** A device is sent UpgradeCommand.run at most once in this long, restarts of the Hive included. */
export const UPGRADE_INTERVAL_MS = 60 * 60 * 1000;

/** The status of the last UpgradeCommand.run, or `not_sent` when it could not even be sent. */
export type UpgradeStatus = CommandStatus | 'not_sent';

/** `upgrade` in GET /api/devices/:id. */
export interface UpgradeView {
  /** The Device version the Hive wants (HIVE_DEVICE_VERSION). */
  currentVersion: string;
  /** From the device's latest report.version; null when it sent none (only AUTO_UPDATE=true devices do). */
  reportedVersion: string | null;
  lastAttemptAt: string | null;
  lastCommandId: string | null;
  lastStatus: UpgradeStatus | null;
  lastError?: ProtocolError;
}

/**
 * Keeps devices up to date: a device that reports (report.version) a version older than the
 * current one is sent UpgradeCommand.run, at most once per UPGRADE_INTERVAL_MS. The attempt is
 * stored before the command goes out, so neither a burst of reports nor a restart sends two.
 */
@Injectable()
export class DeviceUpgradeService {
  private readonly logger = new Logger('Upgrades');

  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly upgrades: UpgradeRepository,
    private readonly commands: CommandsService,
    private readonly reports: ReportsService,
    private readonly clock: Clock,
  ) {}

  /**
   * For each report.version the Hive keeps. Emits the command before it returns (the returned
   * promise only follows the acknowledgement), so on the device's socket the command goes out
   * before the report's acknowledgement. Resolves at once when nothing was sent.
   */
  versionReported(deviceId: string, version: string): Promise<void> {
    const current = this.config.deviceVersion;
    if (!isSemver(version) || compareSemver(version, current) >= 0) return Promise.resolve();
    const now = this.clock.now();
    const claimed = this.upgrades.claim(
      { deviceId, lastAttemptAt: now.toISOString(), reportedVersion: version, targetVersion: current },
      now.getTime() - UPGRADE_INTERVAL_MS,
    );
    if (!claimed) return Promise.resolve();

    let commandId: string;
    try {
      commandId = this.commands.prepare(deviceId, CommandType.UpgradeRun, {}).id;
    } catch (err) {
      this.recordFailure(deviceId, err);
      return Promise.resolve();
    }
    this.upgrades.recordCommand(deviceId, commandId);
    this.logger.log(`device ${deviceId} runs ${version}, older than ${current}: sending UpgradeCommand.run ${commandId}`);
    return this.commands.dispatch(deviceId, commandId, { wait: false }).then(
      () => undefined,
      (err: unknown) => this.recordFailure(deviceId, err),
    );
  }

  describe(deviceId: string): UpgradeView {
    const attempt = this.upgrades.find(deviceId);
    const command = attempt?.lastCommandId ? this.commands.lookup(deviceId, attempt.lastCommandId) : undefined;
    const view: UpgradeView = {
      currentVersion: this.config.deviceVersion,
      reportedVersion: this.reports.latest(deviceId).version?.version ?? null,
      lastAttemptAt: attempt?.lastAttemptAt ?? null,
      lastCommandId: attempt?.lastCommandId ?? null,
      lastStatus: command?.status ?? (attempt?.lastError ? 'not_sent' : null),
    };
    const error = command?.error ?? attempt?.lastError ?? undefined;
    if (error) view.lastError = error;
    return view;
  }

  private recordFailure(deviceId: string, err: unknown): void {
    const error =
      err instanceof HiveError
        ? err.toJSON()
        : new HiveError(HiveErrorCode.INTERNAL, `Sending UpgradeCommand.run failed: ${String(err)}`).toJSON();
    this.logger.warn(`could not send UpgradeCommand.run to device ${deviceId}: ${error.code} ${error.message}`);
    this.upgrades.recordError(deviceId, error);
  }
}
