import { Injectable } from '@nestjs/common';
import { ProtocolError } from '@mosaic/protocol';
import { SqliteDatabase } from '../database/sqlite-database';

/** §2 plus Hive's own bookkeeping: sent → accepted | refused | timeout → succeeded | failed. */
export type CommandStatus = 'sent' | 'accepted' | 'refused' | 'succeeded' | 'failed' | 'timeout';

/** What the device acknowledged, without the id the command already has. */
export interface CommandAck {
  accepted: boolean;
  duplicate?: true;
  error?: ProtocolError;
}

export interface CommandProgress {
  stage: string;
  percent?: number;
  message?: string;
  at: string;
}

export interface CommandRecord {
  id: string;
  deviceId: string;
  type: string;
  params: Record<string, unknown>;
  issuedAt: string;
  status: CommandStatus;
  ack: CommandAck | null;
  result: Record<string, unknown> | null;
  error: ProtocolError | null;
  progress: CommandProgress | null;
  finishedAt: string | null;
}

interface CommandRow {
  id: string;
  device_id: string;
  type: string;
  params: string;
  issued_at: string;
  status: CommandStatus;
  ack: string | null;
  result: string | null;
  error: string | null;
  progress: string | null;
  finished_at: string | null;
}

/**
 * Removes `links.*.token` from the stored params of a SchedulerAction.start: the link tokens the
 * Hive issued stay in the apps table alone. (Migration 4 did the same to the rows stored before.)
 */
const PRUNE_LINK_TOKENS = `
  UPDATE commands
  SET params = json_set(params, '$.links', (SELECT json_group_object(key, json_remove(value, '$.token')) FROM json_each(commands.params, '$.links')))
  WHERE id = ? AND type = 'SchedulerAction.start' AND json_type(params, '$.links') = 'object'`;

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
const parsed = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

function toRecord(row: CommandRow): CommandRecord {
  return {
    id: row.id,
    deviceId: row.device_id,
    type: row.type,
    params: parsed<Record<string, unknown>>(row.params) ?? {},
    issuedAt: row.issued_at,
    status: row.status,
    ack: parsed<CommandAck>(row.ack),
    result: parsed<Record<string, unknown>>(row.result),
    error: parsed<ProtocolError>(row.error),
    progress: parsed<CommandProgress>(row.progress),
    finishedAt: row.finished_at,
  };
}

/**
 * Commands outlive the process: a result a device re-sends from its outbox after a Hive
 * restart still finds its command. Every update that ends a command runs only once.
 */
@Injectable()
export class CommandRepository {
  constructor(private readonly db: SqliteDatabase) {}

  insert(command: CommandRecord): void {
    this.db
      .prepare(
        `INSERT INTO commands (id, device_id, type, params, issued_at, status, ack, result, error, progress, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        command.id,
        command.deviceId,
        command.type,
        JSON.stringify(command.params),
        command.issuedAt,
        command.status,
        json(command.ack),
        json(command.result),
        json(command.error),
        json(command.progress),
        command.finishedAt,
      );
  }

  find(deviceId: string, id: string): CommandRecord | undefined {
    const row = this.db.prepare('SELECT * FROM commands WHERE id = ? AND device_id = ?').get(id, deviceId) as CommandRow | undefined;
    return row && toRecord(row);
  }

  /** Newest first. */
  listForDevice(deviceId: string, limit: number): CommandRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM commands WHERE device_id = ? ORDER BY issued_at DESC, rowid DESC LIMIT ?')
      .all(deviceId, limit) as CommandRow[];
    return rows.map(toRecord);
  }

  /**
   * Stores the acknowledgement; the status moves only while no result has arrived (results may
   * overtake acks). A refused command is over: its link tokens go (it is never sent again).
   */
  recordAck(id: string, ack: CommandAck, status: 'accepted' | 'refused', error: ProtocolError | null): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE commands SET ack = ?,
             status = CASE WHEN finished_at IS NULL THEN ? ELSE status END,
             error = CASE WHEN finished_at IS NULL THEN ? ELSE error END
           WHERE id = ?`,
        )
        .run(json(ack), status, json(error), id);
      if (status === 'refused') this.pruneLinkTokens(id);
    });
  }

  /** No acknowledgement came in time; a later result still ends the command. */
  recordAckTimeout(id: string): void {
    this.db.prepare(`UPDATE commands SET status = 'timeout' WHERE id = ? AND status = 'sent'`).run(id);
  }

  /**
   * Returns false when the command had ended already: a re-sent result changes nothing. An ended
   * command is never sent again, so its link tokens go.
   */
  recordResult(
    id: string,
    outcome: { status: 'succeeded' | 'failed'; result: Record<string, unknown> | null; error: ProtocolError | null; finishedAt: string },
  ): boolean {
    return this.db.transaction(() => {
      const ended =
        this.db
          .prepare('UPDATE commands SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ? AND finished_at IS NULL')
          .run(outcome.status, json(outcome.result), json(outcome.error), outcome.finishedAt, id).changes > 0;
      if (ended) this.pruneLinkTokens(id);
      return ended;
    });
  }

  private pruneLinkTokens(id: string): void {
    this.db.prepare(PRUNE_LINK_TOKENS).run(id);
  }

  recordProgress(id: string, progress: CommandProgress): void {
    this.db.prepare('UPDATE commands SET progress = ? WHERE id = ? AND finished_at IS NULL').run(json(progress), id);
  }
}
