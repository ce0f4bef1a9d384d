import { Injectable } from '@nestjs/common';
import { ProtocolError } from '@mosaic/protocol';
import { SqliteDatabase } from '../database/sqlite-database';

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

interface AttemptRow {
  id: string;
  device_id: string;
  requested_at: string;
  requested_by: UpgradeRequester;
  from_version: string;
  target_version: string;
  target_image: string | null;
  command_id: string | null;
  outcome: UpgradeOutcome;
  reason: string | null;
  finished_at: string | null;
}

function toAttempt(row: AttemptRow): UpgradeAttempt {
  return {
    id: row.id,
    deviceId: row.device_id,
    requestedAt: row.requested_at,
    requestedBy: row.requested_by,
    fromVersion: row.from_version,
    targetVersion: row.target_version,
    targetImage: row.target_image,
    commandId: row.command_id,
    outcome: row.outcome,
    reason: row.reason === null ? null : (JSON.parse(row.reason) as ProtocolError),
    finishedAt: row.finished_at,
  };
}

/** An attempt that has not ended: the device may still be at it. */
export const UNFINISHED: readonly UpgradeOutcome[] = ['pending', 'started'];

const NEWEST_FIRST = 'ORDER BY requested_at DESC, rowid DESC';

@Injectable()
export class UpgradeRepository {
  constructor(private readonly db: SqliteDatabase) {}

  latest(deviceId: string): UpgradeAttempt | undefined {
    return this.list(deviceId, 1)[0];
  }

  /** Newest first. */
  list(deviceId: string, limit: number): UpgradeAttempt[] {
    const rows = this.db
      .prepare(`SELECT * FROM upgrade_attempts WHERE device_id = ? ${NEWEST_FIRST} LIMIT ?`)
      .all(deviceId, limit) as AttemptRow[];
    return rows.map(toAttempt);
  }

  byCommand(commandId: string): UpgradeAttempt | undefined {
    const row = this.db.prepare('SELECT * FROM upgrade_attempts WHERE command_id = ?').get(commandId) as AttemptRow | undefined;
    return row && toAttempt(row);
  }

  /** The versions a device rolled back, oldest first: the Hive never tries them there again by itself. */
  rolledBackVersions(deviceId: string): string[] {
    const rows = this.db
      .prepare(
        `SELECT DISTINCT target_version FROM upgrade_attempts WHERE device_id = ? AND outcome = 'rolled_back' ORDER BY target_version`,
      )
      .all(deviceId) as Array<{ target_version: string }>;
    return rows.map((r) => r.target_version);
  }

  /**
   * Records `attempt` when `allowed` agrees, given the device's latest attempt and its latest of
   * the same target version; the check and the write are one transaction, so two reports cannot
   * both claim. An unfinished attempt it replaces ends `failed` with `stale` as the reason.
   */
  claim(
    attempt: UpgradeAttempt,
    allowed: (latest: UpgradeAttempt | undefined, sameTarget: UpgradeAttempt | undefined) => boolean,
    stale: ProtocolError,
  ): boolean {
    return this.db.transaction(() => {
      const latest = this.latest(attempt.deviceId);
      const row = this.db
        .prepare(`SELECT * FROM upgrade_attempts WHERE device_id = ? AND target_version = ? ${NEWEST_FIRST} LIMIT 1`)
        .get(attempt.deviceId, attempt.targetVersion) as AttemptRow | undefined;
      if (!allowed(latest, row && toAttempt(row))) return false;
      if (latest && UNFINISHED.includes(latest.outcome)) this.settle(latest.id, 'failed', stale, attempt.requestedAt);
      this.db
        .prepare(
          `INSERT INTO upgrade_attempts (id, device_id, requested_at, requested_by, from_version, target_version, target_image, command_id, outcome, reason, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          attempt.id,
          attempt.deviceId,
          attempt.requestedAt,
          attempt.requestedBy,
          attempt.fromVersion,
          attempt.targetVersion,
          attempt.targetImage,
          attempt.commandId,
          attempt.outcome,
          attempt.reason === null ? null : JSON.stringify(attempt.reason),
          attempt.finishedAt,
        );
      return true;
    });
  }

  recordCommand(id: string, commandId: string): void {
    this.db.prepare('UPDATE upgrade_attempts SET command_id = ? WHERE id = ?').run(commandId, id);
  }

  /** Ends an unfinished attempt (`started` too: it may yet succeed); an ended one stays as it ended. */
  settle(id: string, outcome: UpgradeOutcome, reason: ProtocolError | null, at: string | null): void {
    this.db
      .prepare(`UPDATE upgrade_attempts SET outcome = ?, reason = ?, finished_at = ? WHERE id = ? AND outcome IN ('pending', 'started')`)
      .run(outcome, reason === null ? null : JSON.stringify(reason), at, id);
  }
}
