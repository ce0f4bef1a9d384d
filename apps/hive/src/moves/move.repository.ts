import { Injectable } from '@nestjs/common';
import { ProtocolError } from '@mosaic/protocol';
import { sql } from 'kysely';
import { HiveDatabase, affected } from '../database/database';
import { MoveRow } from '../database/schema';

/**
 * [staging →] stopping → replicated → restoring → running, or failed (or cancelled, by the
 * operator) from any but running. `staging`: the target restores the replicas ahead
 * (SchedulerAction.prepare) and the source replicates once more beside it (SchedulerAction.replicate),
 * then the target brings its stage up to date with that copy, all while the app still runs on the
 * source; nothing is stopped until it ends. `replicated` means the stop phase is over: the old device stopped with a final replica, or
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
  /** The source's SchedulerAction.replicate, the first copy of a staged move (null when none was sent). */
  precopyCommandId: string | null;
  /** The target's SchedulerAction.prepare, when the move was staged. */
  prepareCommandId: string | null;
  /** The target's second SchedulerAction.prepare, bringing its stage up to date with the first copy (null when none was needed). */
  stageUpdateCommandId: string | null;
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

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
const parsed = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

function toRecord(row: MoveRow): MoveRecord {
  return {
    id: row.id,
    instance: row.instance,
    fromDeviceId: row.from_device_id,
    toDeviceId: row.to_device_id,
    force: row.force === 1,
    state: row.state as MoveState,
    error: parsed<ProtocolError>(row.error),
    stopError: parsed<ProtocolError>(row.stop_error),
    lossWindow: parsed<LossWindow>(row.loss_window),
    precopyCommandId: row.precopy_command_id,
    prepareCommandId: row.prepare_command_id,
    stageUpdateCommandId: row.stage_update_command_id,
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

/** The columns a move's steps change. */
function changingColumns(move: MoveRecord) {
  return {
    state: move.state,
    error: json(move.error),
    stop_error: json(move.stopError),
    loss_window: json(move.lossWindow),
    precopy_command_id: move.precopyCommandId,
    prepare_command_id: move.prepareCommandId,
    stage_update_command_id: move.stageUpdateCommandId,
    stop_command_id: move.stopCommandId,
    start_command_id: move.startCommandId,
    updated_at: move.updatedAt,
    finished_at: move.finishedAt,
    resolved_on: move.resolvedOn,
    resolution: move.resolution,
    stopped_at: move.stoppedAt,
    downtime_ms: move.downtimeMs,
    total_ms: move.totalMs,
  };
}

/** Thrown by `insert` when the instance has an unfinished move already. */
export class UnfinishedMoveExists extends Error {}

@Injectable()
export class MoveRepository {
  constructor(private readonly db: HiveDatabase) {}

  async insert(move: MoveRecord): Promise<void> {
    try {
      // A savepoint when inside a transaction: on PostgreSQL a failed statement would spoil the rest of it.
      await this.db.transaction(async () => {
        await this.db.q
          .insertInto('moves')
          .values({
            id: move.id,
            instance: move.instance,
            from_device_id: move.fromDeviceId,
            to_device_id: move.toDeviceId,
            force: move.force ? 1 : 0,
            created_at: move.createdAt,
            ...changingColumns(move),
          })
          .execute();
      });
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new UnfinishedMoveExists(move.instance);
      throw err;
    }
  }

  /**
   * Writes the move's changing fields over the stored state `from` (the one the change was made
   * from). Returns false, and writes nothing, when the stored move finished already or another
   * writer (another Hive process) changed its state since: a finished move never changes again,
   * and a step is never applied twice.
   */
  async save(move: MoveRecord, from: MoveState): Promise<boolean> {
    return affected(
      await this.db.q
        .updateTable('moves')
        .set(changingColumns(move))
        .where('id', '=', move.id)
        .where('finished_at', 'is', null)
        .where('state', '=', from)
        .executeTakeFirst(),
    );
  }

  async find(id: string): Promise<MoveRecord | undefined> {
    const row = await this.db.q.selectFrom('moves').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Newest first. */
  async listForInstance(instance: string): Promise<MoveRecord[]> {
    const rows = await this.db.q
      .selectFrom('moves')
      .selectAll()
      .where('instance', '=', instance)
      .orderBy('created_at', 'desc')
      .orderBy(sql`rowid`, 'desc')
      .execute();
    return rows.map(toRecord);
  }

  /** Every move that has not ended, oldest first. */
  async listUnfinished(): Promise<MoveRecord[]> {
    const rows = await this.db.q.selectFrom('moves').selectAll().where('finished_at', 'is', null).orderBy('created_at').orderBy(sql`rowid`).execute();
    return rows.map(toRecord);
  }

  /** The newest move of the instance that ended `running` (the one that gave the app its current device), if any. */
  async latestCompleted(instance: string): Promise<MoveRecord | undefined> {
    const row = await this.db.q
      .selectFrom('moves')
      .selectAll()
      .where('instance', '=', instance)
      .where('state', '=', 'running')
      .orderBy('created_at', 'desc')
      .orderBy(sql`rowid`, 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** The move whose stage `commandId` (a SchedulerAction.prepare, the first or the update) asked for, once that move has ended. */
  async findFinishedByPrepare(commandId: string): Promise<MoveRecord | undefined> {
    const row = await this.db.q
      .selectFrom('moves')
      .selectAll()
      .where((eb) => eb.or([eb('prepare_command_id', '=', commandId), eb('stage_update_command_id', '=', commandId)]))
      .where('finished_at', 'is not', null)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async findUnfinished(instance: string): Promise<MoveRecord | undefined> {
    const row = await this.db.q.selectFrom('moves').selectAll().where('instance', '=', instance).where('finished_at', 'is', null).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Runs `work` in one transaction, so a command and the move that points at it are stored together. */
  transaction<T>(work: () => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Tells `callback` whether what the caller wrote was committed, once it is visible (HiveDatabase.afterTransaction). */
  afterTransaction(callback: (committed: boolean) => void): void {
    this.db.afterTransaction(callback);
  }
}
