import { Injectable } from '@nestjs/common';
import { ProtocolError } from '@mosaic/protocol';
import { sql } from 'kysely';
import { HiveDatabase, affected } from '../database/database';
import { withoutLinkTokens } from '../database/migrations';
import { CommandRow } from '../database/schema';

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

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
const parsed = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

function toRecord(row: CommandRow): CommandRecord {
  return {
    id: row.id,
    deviceId: row.device_id,
    type: row.type,
    params: parsed<Record<string, unknown>>(row.params) ?? {},
    issuedAt: row.issued_at,
    status: row.status as CommandStatus,
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
  constructor(private readonly db: HiveDatabase) {}

  async insert(command: CommandRecord): Promise<void> {
    await this.db.q
      .insertInto('commands')
      .values({
        id: command.id,
        device_id: command.deviceId,
        type: command.type,
        params: JSON.stringify(command.params),
        issued_at: command.issuedAt,
        status: command.status,
        ack: json(command.ack),
        result: json(command.result),
        error: json(command.error),
        progress: json(command.progress),
        finished_at: command.finishedAt,
      })
      .execute();
  }

  async find(deviceId: string, id: string): Promise<CommandRecord | undefined> {
    const row = await this.db.q.selectFrom('commands').selectAll().where('id', '=', id).where('device_id', '=', deviceId).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Newest first. */
  async listForDevice(deviceId: string, limit: number): Promise<CommandRecord[]> {
    const rows = await this.db.q
      .selectFrom('commands')
      .selectAll()
      .where('device_id', '=', deviceId)
      .orderBy('issued_at', 'desc')
      .orderBy(sql`rowid`, 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  /**
   * Stores the acknowledgement; the status moves only while no result has arrived (results may
   * overtake acks). A refused command is over: its link tokens go (it is never sent again).
   */
  async recordAck(id: string, ack: CommandAck, status: 'accepted' | 'refused', error: ProtocolError | null): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.q
        .updateTable('commands')
        .set((eb) => ({
          ack: json(ack),
          status: eb.case().when('finished_at', 'is', null).then(status).else(eb.ref('status')).end(),
          error: eb.case().when('finished_at', 'is', null).then(json(error)).else(eb.ref('error')).end(),
        }))
        .where('id', '=', id)
        .execute();
      if (status === 'refused') await this.pruneLinkTokens(id);
    });
  }

  /** No acknowledgement came in time; a later result still ends the command. */
  async recordAckTimeout(id: string): Promise<void> {
    await this.db.q.updateTable('commands').set({ status: 'timeout' }).where('id', '=', id).where('status', '=', 'sent').execute();
  }

  /**
   * Returns false when the command had ended already: a re-sent result changes nothing. An ended
   * command is never sent again, so its link tokens go.
   */
  async recordResult(
    id: string,
    outcome: { status: 'succeeded' | 'failed'; result: Record<string, unknown> | null; error: ProtocolError | null; finishedAt: string },
  ): Promise<boolean> {
    return this.db.transaction(async () => {
      const ended = affected(
        await this.db.q
          .updateTable('commands')
          .set({ status: outcome.status, result: json(outcome.result), error: json(outcome.error), finished_at: outcome.finishedAt })
          .where('id', '=', id)
          .where('finished_at', 'is', null)
          .executeTakeFirst(),
      );
      if (ended) await this.pruneLinkTokens(id);
      return ended;
    });
  }

  /**
   * Removes `links.*.token` from the stored params of a SchedulerAction.start: the link tokens the
   * Hive issued stay in the apps table alone. (Migration 4 did the same to the rows stored before.)
   */
  private async pruneLinkTokens(id: string): Promise<void> {
    const row = await this.db.q
      .selectFrom('commands')
      .select('params')
      .where('id', '=', id)
      .where('type', '=', 'SchedulerAction.start')
      .executeTakeFirst();
    const pruned = row && withoutLinkTokens(row.params);
    if (pruned) await this.db.q.updateTable('commands').set({ params: pruned }).where('id', '=', id).execute();
  }

  async recordProgress(id: string, progress: CommandProgress): Promise<void> {
    await this.db.q.updateTable('commands').set({ progress: json(progress) }).where('id', '=', id).where('finished_at', 'is', null).execute();
  }
}
