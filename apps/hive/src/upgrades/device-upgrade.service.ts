import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { CommandType, ErrorCode, ProtocolError, UpgradeParamsDto, compareSemver, isSemver } from '@mosaic/protocol';
import { randomUUID } from 'node:crypto';
import { CommandStatus } from '../commands/command.repository';
import { CommandView, CommandsService, SettledCommand } from '../commands/commands.service';
import { Clock } from '../common/clock';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { DevicesService } from '../devices/devices.service';
import { ReportsService } from '../reports/reports.service';
import { UNFINISHED, UpgradeAttempt, UpgradeOutcome, UpgradeRepository, UpgradeRequester } from './upgrade.repository';

/**
 * A device is sent UpgradeCommand.run for a version at most once in this long: after a failed
 * attempt, and while one is unfinished (one older than this is taken as lost). Restarts of the
 * Hive included.
 */
export const UPGRADE_INTERVAL_MS = 60 * 60 * 1000;

/** The first Device version that understands a named target (docs/protocol.md §10); older ones get `{}`. */
export const TARGET_PARAMS_SINCE = '0.1.0';

/** How many attempts GET /api/devices/:id/upgrade shows, newest first. */
export const ATTEMPTS_SHOWN = 20;

/** The status of the last UpgradeCommand.run, or `not_sent` when it could not even be sent. */
export type UpgradeStatus = CommandStatus | 'not_sent';

/** One attempt, as the REST API shows it: without its device, `reason` only when there is one. */
export type UpgradeAttemptView = Omit<UpgradeAttempt, 'deviceId' | 'reason'> & { reason?: ProtocolError };

/** `upgrade` in GET /api/devices/:id, and GET /api/devices/:id/upgrade. */
export interface UpgradeView {
  /** The Device version the Hive wants (HIVE_DEVICE_VERSION). */
  currentVersion: string;
  /** The image it names (HIVE_DEVICE_IMAGE); null: each device takes its own repository at currentVersion. */
  targetImage: string | null;
  /** From the device's latest report.version; null when it sent none (only AUTO_UPDATE=true devices do). */
  reportedVersion: string | null;
  lastAttemptAt: string | null;
  lastCommandId: string | null;
  lastStatus: UpgradeStatus | null;
  lastError?: ProtocolError;
  /** How the last attempt stands; null before any. */
  outcome: UpgradeOutcome | null;
  /** Versions this device rolled back: the Hive never tries them there again by itself. */
  rolledBack: string[];
  attempts: UpgradeAttemptView[];
}

/** A target as the Hive names it. */
interface Target {
  version: string;
  image: string | null;
}

const STALE: ProtocolError = {
  code: ErrorCode.INTERNAL,
  message: `No outcome came within ${UPGRADE_INTERVAL_MS / 60_000} minutes; a new attempt replaced this one.`,
};

/**
 * Keeps devices up to date: a device that reports (report.version) a version older than the
 * current one is sent UpgradeCommand.run naming the target, unless it rolled that version back
 * before, an attempt is still under way, or the last one of that version failed within the hour.
 * The attempt is stored before the command goes out, so neither a burst of reports nor a restart
 * sends two; each attempt's outcome follows its command (and, for an updater that only started,
 * the next report.version).
 */
@Injectable()
export class DeviceUpgradeService implements OnModuleDestroy {
  private readonly logger = new Logger('Upgrades');
  private readonly stopListening: () => void;

  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly upgrades: UpgradeRepository,
    private readonly commands: CommandsService,
    private readonly reports: ReportsService,
    private readonly devices: DevicesService,
    private readonly clock: Clock,
  ) {
    this.stopListening = commands.onSettled((settled) => this.commandSettled(settled));
  }

  onModuleDestroy(): void {
    this.stopListening();
  }

  /**
   * For each report.version the Hive keeps. Calls `emitted` once the command went out (the
   * returned promise follows the acknowledgement), so the gateway can answer the report after
   * it: on the device's socket the command comes first. Resolves without calling `emitted` when
   * nothing was sent.
   */
  async versionReported(deviceId: string, version: string, emitted?: () => void): Promise<void> {
    if (!isSemver(version)) return;
    await this.catchUp(deviceId);
    await this.versionReached(deviceId, version);
    const target = this.target();
    if (compareSemver(version, target.version) >= 0) return;
    const now = this.clock.now().getTime();
    const attempt = this.newAttempt(deviceId, version, target, 'hive');
    const claimed = await this.upgrades.claim(
      attempt,
      (latest, sameTarget) => {
        if (sameTarget?.outcome === 'rolled_back') return false; // never by itself: only an explicit request tries it again
        if (latest && UNFINISHED.includes(latest.outcome) && Date.parse(latest.requestedAt) > now - UPGRADE_INTERVAL_MS) return false;
        return !sameTarget || Date.parse(sameTarget.finishedAt ?? sameTarget.requestedAt) <= now - UPGRADE_INTERVAL_MS;
      },
      STALE,
    );
    if (!claimed) return;
    this.logger.log(`device ${deviceId} runs ${version}, older than ${target.version}: sending UpgradeCommand.run`);
    await this.send(attempt, version, emitted);
  }

  /**
   * POST /api/devices/:id/upgrade: an upgrade now, to the given target or the Hive's, a version
   * rolled back before included. Refused while another attempt is under way.
   */
  async request(deviceId: string, params: UpgradeParamsDto): Promise<UpgradeAttemptView> {
    const device = await this.devices.require(deviceId);
    const from = (await this.reports.latest(deviceId)).version?.version ?? device.version ?? '0.0.0';
    const target: Target =
      params.version !== undefined
        ? { version: params.version, image: params.image ?? null }
        : { ...this.target(), ...(params.image ? { image: params.image } : {}) };
    const attempt = this.newAttempt(deviceId, from, target, 'api');
    const now = this.clock.now().getTime();
    const claimed = await this.upgrades.claim(
      attempt,
      (latest) => !(latest && UNFINISHED.includes(latest.outcome) && Date.parse(latest.requestedAt) > now - UPGRADE_INTERVAL_MS),
      STALE,
    );
    if (!claimed) {
      throw new HiveError(
        HiveErrorCode.UPGRADE_IN_PROGRESS,
        `Device ${deviceId} has an upgrade under way; wait for its outcome (GET /api/devices/${deviceId}/upgrade).`,
      );
    }
    this.logger.log(`device ${deviceId}: upgrade to ${target.version} requested`);
    await this.send(attempt, from);
    return this.attemptView((await this.upgrades.latest(deviceId))!);
  }

  async describe(deviceId: string): Promise<UpgradeView> {
    await this.catchUp(deviceId);
    const target = this.target();
    const attempts = await this.upgrades.list(deviceId, ATTEMPTS_SHOWN);
    const last = attempts[0];
    const command = last?.commandId ? await this.commands.lookup(deviceId, last.commandId) : undefined;
    const view: UpgradeView = {
      currentVersion: target.version,
      targetImage: target.image,
      reportedVersion: (await this.reports.latest(deviceId)).version?.version ?? null,
      lastAttemptAt: last?.requestedAt ?? null,
      lastCommandId: last?.commandId ?? null,
      lastStatus: command?.status ?? (last ? 'not_sent' : null),
      outcome: last?.outcome ?? null,
      rolledBack: await this.upgrades.rolledBackVersions(deviceId),
      attempts: attempts.map((a) => this.attemptView(a)),
    };
    const error = command?.error ?? (command ? undefined : (last?.reason ?? undefined));
    if (error) view.lastError = error;
    return view;
  }

  private target(): Target {
    return { version: this.config.deviceVersion, image: this.config.deviceImage ?? null };
  }

  private newAttempt(deviceId: string, fromVersion: string, target: Target, requestedBy: UpgradeRequester): UpgradeAttempt {
    return {
      id: randomUUID(),
      deviceId,
      requestedAt: this.clock.now().toISOString(),
      requestedBy,
      fromVersion,
      targetVersion: target.version,
      targetImage: target.image,
      commandId: null,
      outcome: 'pending',
      reason: null,
      finishedAt: null,
    };
  }

  /** Sends the attempt's command; a device older than TARGET_PARAMS_SINCE would refuse the target, so it gets `{}`. */
  private async send(attempt: UpgradeAttempt, deviceVersion: string, emitted?: () => void): Promise<void> {
    const named = isSemver(deviceVersion) && compareSemver(deviceVersion, TARGET_PARAMS_SINCE) >= 0;
    const params = named ? { version: attempt.targetVersion, ...(attempt.targetImage ? { image: attempt.targetImage } : {}) } : {};
    let command: CommandView;
    try {
      command = await this.commands.prepare(attempt.deviceId, CommandType.UpgradeRun, params);
    } catch (err) {
      await this.notSent(attempt, err);
      return;
    }
    await this.upgrades.recordCommand(attempt.id, command.id);
    try {
      await this.commands.dispatch(attempt.deviceId, command.id, { wait: false, ...(emitted && { onEmit: emitted }) });
    } catch (err) {
      await this.notSent(attempt, err);
    }
  }

  private commandSettled({ commandId }: SettledCommand): void {
    void (async () => {
      const attempt = await this.upgrades.byCommand(commandId);
      if (attempt) await this.followCommand(attempt);
    })().catch((err: Error) => this.logger.error(`following upgrade command ${commandId} failed: ${err.stack ?? String(err)}`));
  }

  /**
   * A command's end is its attempt's outcome; a refusal or a failure ends it too, no answer yet
   * leaves it pending. Also run when an attempt is read, for one whose command ended while no
   * listener was there (an attempt a migration carried over).
   */
  private async followCommand(attempt: UpgradeAttempt): Promise<void> {
    if (attempt.outcome !== 'pending' || !attempt.commandId) return;
    const command = await this.commands.lookup(attempt.deviceId, attempt.commandId);
    if (!command || !['succeeded', 'failed', 'refused'].includes(command.status)) return;
    const at = command.finishedAt ?? this.clock.now().toISOString();
    if (command.status === 'succeeded') {
      // With the version it reached, the device says it runs healthy; without, only that an updater started.
      const reached = typeof command.result?.version === 'string';
      await this.upgrades.settle(attempt.id, reached ? 'succeeded' : 'started', null, reached ? at : null);
    } else {
      const error = command.error ?? { code: ErrorCode.INTERNAL, message: 'The command ended without saying why.' };
      await this.upgrades.settle(attempt.id, error.code === ErrorCode.ROLLED_BACK ? 'rolled_back' : 'failed', error, at);
    }
    const ended = (await this.upgrades.byCommand(attempt.commandId))!;
    const why = ended.reason ? ` (${ended.reason.code}: ${ended.reason.message})` : '';
    this.logger.log(`upgrade of device ${attempt.deviceId} to ${attempt.targetVersion}: ${ended.outcome}${why}`);
  }

  private async catchUp(deviceId: string): Promise<void> {
    const latest = await this.upgrades.latest(deviceId);
    if (latest) await this.followCommand(latest);
  }

  /** An updater that only started succeeded once the device reports the target version (or a newer one). */
  private async versionReached(deviceId: string, version: string): Promise<void> {
    const latest = await this.upgrades.latest(deviceId);
    if (latest?.outcome === 'started' && compareSemver(version, latest.targetVersion) >= 0) {
      await this.upgrades.settle(latest.id, 'succeeded', null, this.clock.now().toISOString());
    }
  }

  private async notSent(attempt: UpgradeAttempt, err: unknown): Promise<void> {
    const error =
      err instanceof HiveError
        ? err.toJSON()
        : new HiveError(HiveErrorCode.INTERNAL, `Sending UpgradeCommand.run failed: ${String(err)}`).toJSON();
    this.logger.warn(`could not send UpgradeCommand.run to device ${attempt.deviceId}: ${error.code} ${error.message}`);
    await this.upgrades.settle(attempt.id, 'failed', error, this.clock.now().toISOString());
  }

  private attemptView({ deviceId: _device, reason, ...attempt }: UpgradeAttempt): UpgradeAttemptView {
    return reason ? { ...attempt, reason } : attempt;
  }

}
