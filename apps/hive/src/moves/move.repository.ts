import { Injectable } from '@nestjs/common';
import { ProtocolError } from '@mosaic/protocol';
import { SqliteDatabase } from '../database/sqlite-database';

/**
 * [staging →] stopping → replicated → restoring → running, or failed (or cancelled, by the
 * operator) from any but running. `staging`: the target restores the replicas ahead
 * (SchedulerAction.prepare) while the app still runs on the source; nothing is stopped until it
 * ends. `replicated` means the stop phase is over: the old device stopped with a final replica, or
 * (force) its stop failed or was skipped and the loss window was recorded.
 */
export const MOVE_STATES = ['staging', 'stopping', 'replicated', 'restoring', 'running', 'failed', 'cancelled'] as const;
/** The states a move ends in: it never changes again. */
export const FINAL_MOVE_STATES: readonly MoveState[] = ['running', 'failed', 'cancelled'];
export type MoveState = (typeof MOVE_STATES)[number];

/** How much a forced move may have lost: what changed on the old device after its last replica. */
export interface LossWindow {
  /** The newest `lastReplicatedAt` of the instance's volumes; null when none was ever replicated (or nothing is known). */
  lastReplicatedAt: string | null;
  /** Seconds from that replica to the moment the move went on without the old device's final one. */
  ageSeconds: number | null;
  /** The `at` of the report.volumes these figures come from; null when the old device sent none. */
  reportedAt: string | null;
  /** Each volume's own replica time, since one volume may lag behind another. */
  volumes: Array<{ name: string; role: string; lastReplicatedAt: string | null }>;
}

export interface MoveRecord {
  id: string;
  instance: string;
  /** The device the app was on; null when that device had been revoked. */
  fromDeviceId: string | null;
  toDeviceId: string;
  force: boolean;
  state: MoveState;
  /** Why the move failed. */
  error: ProtocolError | null;
  /** Why the stop on the old device failed, or that it was skipped, when a forced move went on anyway. */
  stopError: ProtocolError | null;
  /** Set when a forced move went on without a final replica; null otherwise. */
  lossWindow: LossWindow | null;
  /** The target's SchedulerAction.prepare, when the move was staged. */
  prepareCommandId: string | null;
  stopCommandId: string | null;
  startCommandId: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** A cancelled move: the device where the app's data is safe and the app now belongs (null when none is). */
  resolvedOn: string | null;
  /** A cancelled move: what was done and where the app is left, in a sentence. */
  resolution: string | null;
  /** When the source's stop was acknowledged (or the move went on without it): the app's downtime begins. */
  stoppedAt: string | null;
  /** A move that ended `running`: from `stoppedAt` to the target's start result. */
  downtimeMs: number | null;
  /** An ended move: from its creation to its end. */
  totalMs: number | null;
}

interface MoveRow {
  id: string;
  instance: string;
  from_device_id: string | null;
  to_device_id: string;
  force: number;
  state: MoveState;
  error: string | null;
  stop_error: string | null;
  loss_window: string | null;
  prepare_command_id: string | null;
  stop_command_id: string | null;
  start_command_id: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  resolved_on: string | null;
  resolution: string | null;
  stopped_at: string | null;
  downtime_ms: number | null;
  total_ms: number | null;
}

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
const parsed = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

function toRecord(row: MoveRow): MoveRecord {
  return {
    id: row.id,
    instance: row.instance,
    fromDeviceId: row.from_device_id,
    toDeviceId: row.to_device_id,
    force: row.force === 1,
    state: row.state,
    error: parsed<ProtocolError>(row.error),
    stopError: parsed<ProtocolError>(row.stop_error),
    lossWindow: parsed<LossWindow>(row.loss_window),
    prepareCommandId: row.prepare_command_id,
    stopCommandId: row.stop_command_id,
    startCommandId: row.start_command_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    resolvedOn: row.resolved_on,
    resolution: row.resolution,
    stoppedAt: row.stopped_at,
    downtimeMs: row.downtime_ms,
    totalMs: row.total_ms,
  };
}

/** Thrown by `insert` when the instance has an unfinished move already. */
export class UnfinishedMoveExists extends Error {}

@Injectable()
export class MoveRepository {
  constructor(private readonly db: SqliteDatabase) {}

  insert(move: MoveRecord): void {
    try {
      this.db
        .prepare(
          `INSERT INTO moves (id, instance, from_device_id, to_device_id, force, state, error, stop_error, loss_window,
             prepare_command_id, stop_command_id, start_command_id, created_at, updated_at, finished_at, resolved_on, resolution, stopped_at,
             downtime_ms, total_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          move.id,
          move.instance,
          move.fromDeviceId,
          move.toDeviceId,
          move.force ? 1 : 0,
          move.state,
          json(move.error),
          json(move.stopError),
          json(move.lossWindow),
          move.prepareCommandId,
          move.stopCommandId,
          move.startCommandId,
          move.createdAt,
          move.updatedAt,
          move.finishedAt,
          move.resolvedOn,
          move.resolution,
          move.stoppedAt,
          move.downtimeMs,
          move.totalMs,
        );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UnfinishedMoveExists(move.instance);
      throw err;
    }
  }

  /**
   * Writes the move's changing fields. A finished move never changes again: returns false (and
   * writes nothing) when the stored one has finished already.
   */
  save(move: MoveRecord): boolean {
    return (
      this.db
        .prepare(
          `UPDATE moves SET state = ?, error = ?, stop_error = ?, loss_window = ?, prepare_command_id = ?, stop_command_id = ?,
             start_command_id = ?, updated_at = ?, finished_at = ?, resolved_on = ?, resolution = ?, stopped_at = ?, downtime_ms = ?,
             total_ms = ?
           WHERE id = ? AND finished_at IS NULL`,
        )
        .run(
          move.state,
          json(move.error),
          json(move.stopError),
          json(move.lossWindow),
          move.prepareCommandId,
          move.stopCommandId,
          move.startCommandId,
          move.updatedAt,
          move.finishedAt,
          move.resolvedOn,
          move.resolution,
          move.stoppedAt,
          move.downtimeMs,
          move.totalMs,
          move.id,
        ).changes > 0
    );
  }

  find(id: string): MoveRecord | undefined {
    const row = this.db.prepare('SELECT * FROM moves WHERE id = ?').get(id) as MoveRow | undefined;
    return row && toRecord(row);
  }

  /** Newest first. */
  listForInstance(instance: string): MoveRecord[] {
    const rows = this.db.prepare('SELECT * FROM moves WHERE instance = ? ORDER BY created_at DESC, rowid DESC').all(instance) as MoveRow[];
    return rows.map(toRecord);
  }

  /** Every move that has not ended, oldest first. */
  listUnfinished(): MoveRecord[] {
    const rows = this.db.prepare('SELECT * FROM moves WHERE finished_at IS NULL ORDER BY created_at, rowid').all() as MoveRow[];
    return rows.map(toRecord);
  }

  /** The newest move of the instance that ended `running` (the one that gave the app its current device), if any. */
  latestCompleted(instance: string): MoveRecord | undefined {
    const row = this.db
      .prepare("SELECT * FROM moves WHERE instance = ? AND state = 'running' ORDER BY created_at DESC, rowid DESC LIMIT 1")
      .get(instance) as MoveRow | undefined;
    return row && toRecord(row);
  }

  findUnfinished(instance: string): MoveRecord | undefined {
    const row = this.db.prepare('SELECT * FROM moves WHERE instance = ? AND finished_at IS NULL').get(instance) as MoveRow | undefined;
    return row && toRecord(row);
  }

  /** Runs `work` in one transaction, so a command and the move that points at it are stored together. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work);
  }
}
