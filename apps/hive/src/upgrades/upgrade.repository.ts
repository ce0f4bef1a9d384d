import { Injectable } from '@nestjs/common';
import { ProtocolError } from '@mosaic/protocol';
import { sql } from 'kysely';
import { HiveDatabase } from '../database/database';
import { UpgradeAttemptRow } from '../database/schema';

/**
 * How an attempt stands: `pending` until the device ends the command; `started` when it only
 * said an updater started (Watchtower, or a device too old to name targets) and the next
 * report.version tells; then `succeeded`, `rolled_back` (the new version did not come up, the
 * previous one runs again) or `failed`.
 */
export type UpgradeOutcome = 'pending' | 'started' | 'succeeded' | 'rolled_back' | 'failed';

/** `hive`: a report.version of an older version; `api`: POST /api/devices/:id/upgrade. */
export type UpgradeRequester = 'hive' | 'api';

/** One UpgradeCommand.run the Hive sent a device, or tried to. */
export interface UpgradeAttempt {
  id: string;
  deviceId: string;
  requestedAt: string;
  requestedBy: UpgradeRequester;
  /** The version the device reported when the attempt was made. */
  fromVersion: string;
  targetVersion: string;
  /** The image the command named; null when it named none (the device takes its own repository). */
  targetImage: string | null;
  commandId: string | null;
  outcome: UpgradeOutcome;
  /** Why it was rolled back or failed: the device's error, or why the command could not be sent. */
  reason: ProtocolError | null;
  finishedAt: string | null;
}

function toAttempt(row: UpgradeAttemptRow): UpgradeAttempt {
  return {
    id: row.id,
    deviceId: row.device_id,
    requestedAt: row.requested_at,
    requestedBy: row.requested_by as UpgradeRequester,
    fromVersion: row.from_version,
    targetVersion: row.target_version,
    targetImage: row.target_image,
    commandId: row.command_id,
    outcome: row.outcome as UpgradeOutcome,
    reason: row.reason === null ? null : (JSON.parse(row.reason) as ProtocolError),
    finishedAt: row.finished_at,
  };
}

/** An attempt that has not ended: the device may still be at it. */
export const UNFINISHED: readonly UpgradeOutcome[] = ['pending', 'started'];

@Injectable()
export class UpgradeRepository {
  constructor(private readonly db: HiveDatabase) {}

  async latest(deviceId: string): Promise<UpgradeAttempt | undefined> {
    return (await this.list(deviceId, 1))[0];
  }

  /** Newest first. */
  async list(deviceId: string, limit: number): Promise<UpgradeAttempt[]> {
    const rows = await this.newestFirst().where('device_id', '=', deviceId).limit(limit).execute();
    return rows.map(toAttempt);
  }

  async byCommand(commandId: string): Promise<UpgradeAttempt | undefined> {
    const row = await this.db.q.selectFrom('upgrade_attempts').selectAll().where('command_id', '=', commandId).executeTakeFirst();
    return row && toAttempt(row);
  }

  /** The versions a device rolled back, oldest first: the Hive never tries them there again by itself. */
  async rolledBackVersions(deviceId: string): Promise<string[]> {
    const rows = await this.db.q
      .selectFrom('upgrade_attempts')
      .select('target_version')
      .distinct()
      .where('device_id', '=', deviceId)
      .where('outcome', '=', 'rolled_back')
      .orderBy('target_version')
      .execute();
    return rows.map((r) => r.target_version);
  }

  /**
   * Records `attempt` when `allowed` agrees, given the device's latest attempt and its latest of
   * the same target version; the check and the write are one transaction, so two reports cannot
   * both claim. An unfinished attempt it replaces ends `failed` with `stale` as the reason.
   */
  async claim(
    attempt: UpgradeAttempt,
    allowed: (latest: UpgradeAttempt | undefined, sameTarget: UpgradeAttempt | undefined) => boolean,
    stale: ProtocolError,
  ): Promise<boolean> {
    return this.db.transaction(async () => {
      // The device's row, locked on PostgreSQL until the transaction ends: two claims for one device take turns.
      await this.lockDevice(attempt.deviceId);
      const latest = await this.latest(attempt.deviceId);
      const row = await this.newestFirst().where('device_id', '=', attempt.deviceId).where('target_version', '=', attempt.targetVersion).limit(1).executeTakeFirst();
      if (!allowed(latest, row && toAttempt(row))) return false;
      if (latest && UNFINISHED.includes(latest.outcome)) await this.settle(latest.id, 'failed', stale, attempt.requestedAt);
      await this.db.q
        .insertInto('upgrade_attempts')
        .values({
          id: attempt.id,
          device_id: attempt.deviceId,
          requested_at: attempt.requestedAt,
          requested_by: attempt.requestedBy,
          from_version: attempt.fromVersion,
          target_version: attempt.targetVersion,
          target_image: attempt.targetImage,
          command_id: attempt.commandId,
          outcome: attempt.outcome,
          reason: attempt.reason === null ? null : JSON.stringify(attempt.reason),
          finished_at: attempt.finishedAt,
        })
        .execute();
      return true;
    });
  }

  async recordCommand(id: string, commandId: string): Promise<void> {
    await this.db.q.updateTable('upgrade_attempts').set({ command_id: commandId }).where('id', '=', id).execute();
  }

  /** Ends an unfinished attempt (`started` too: it may yet succeed); an ended one stays as it ended. */
  async settle(id: string, outcome: UpgradeOutcome, reason: ProtocolError | null, at: string | null): Promise<void> {
    await this.db.q
      .updateTable('upgrade_attempts')
      .set({ outcome, reason: reason === null ? null : JSON.stringify(reason), finished_at: at })
      .where('id', '=', id)
      .where('outcome', 'in', [...UNFINISHED])
      .execute();
  }

  private newestFirst() {
    return this.db.q.selectFrom('upgrade_attempts').selectAll().orderBy('requested_at', 'desc').orderBy(sql`rowid`, 'desc');
  }

  /** SQLite has one writer at a time already; PostgreSQL locks the device's row (SELECT … FOR UPDATE). */
  private async lockDevice(deviceId: string): Promise<void> {
    if (this.db.kind === 'postgres') await this.db.q.selectFrom('devices').select('id').where('id', '=', deviceId).forUpdate().execute();
  }
}
