import { Injectable } from '@nestjs/common';
import { ProtocolError } from '@mosaic/protocol';
import { SqliteDatabase } from '../database/sqlite-database';

/** The last UpgradeCommand.run the Hive sent a device (or tried to). */
export interface UpgradeAttempt {
  deviceId: string;
  lastAttemptAt: string;
  /** The version the device reported when the attempt was made. */
  reportedVersion: string;
  /** The Hive's current Device version at that moment. */
  targetVersion: string;
  lastCommandId: string | null;
  /** Why the command could not be sent at all; the command's own error lives with the command. */
  lastError: ProtocolError | null;
}

interface UpgradeRow {
  device_id: string;
  last_attempt_at: string;
  reported_version: string;
  target_version: string;
  last_command_id: string | null;
  last_error: string | null;
}

function toAttempt(row: UpgradeRow): UpgradeAttempt {
  return {
    deviceId: row.device_id,
    lastAttemptAt: row.last_attempt_at,
    reportedVersion: row.reported_version,
    targetVersion: row.target_version,
    lastCommandId: row.last_command_id,
    lastError: row.last_error === null ? null : (JSON.parse(row.last_error) as ProtocolError),
  };
}

@Injectable()
export class UpgradeRepository {
  constructor(private readonly db: SqliteDatabase) {}

  find(deviceId: string): UpgradeAttempt | undefined {
    const row = this.db.prepare('SELECT * FROM device_upgrades WHERE device_id = ?').get(deviceId) as UpgradeRow | undefined;
    return row && toAttempt(row);
  }

  /**
   * Records a new attempt unless the last one was made after `notAfterMs` (epoch ms). Returns
   * false, and changes nothing, when it was: the check and the write are one transaction.
   */
  claim(attempt: Omit<UpgradeAttempt, 'lastCommandId' | 'lastError'>, notAfterMs: number): boolean {
    return this.db.transaction(() => {
      const last = this.find(attempt.deviceId);
      if (last && Date.parse(last.lastAttemptAt) > notAfterMs) return false;
      this.db
        .prepare(
          `INSERT INTO device_upgrades (device_id, last_attempt_at, reported_version, target_version, last_command_id, last_error)
           VALUES (?, ?, ?, ?, NULL, NULL)
           ON CONFLICT (device_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
             reported_version = excluded.reported_version, target_version = excluded.target_version,
             last_command_id = NULL, last_error = NULL`,
        )
        .run(attempt.deviceId, attempt.lastAttemptAt, attempt.reportedVersion, attempt.targetVersion);
      return true;
    });
  }

  recordCommand(deviceId: string, commandId: string): void {
    this.db.prepare('UPDATE device_upgrades SET last_command_id = ? WHERE device_id = ?').run(commandId, deviceId);
  }

  recordError(deviceId: string, error: ProtocolError): void {
    this.db.prepare('UPDATE device_upgrades SET last_error = ? WHERE device_id = ?').run(JSON.stringify(error), deviceId);
  }
}
