import { Injectable } from '@nestjs/common';
import { HiveDatabase, affected } from '../database/database';
import { ConsoleSessionRow } from '../database/schema';

export interface ConsoleSessionRecord {
  /** SHA-256 of the session id the cookie carries; the id itself is never stored. */
  idHash: string;
  userId: string;
  csrfToken: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
}

const toRecord = (row: ConsoleSessionRow): ConsoleSessionRecord => ({
  idHash: row.id_hash,
  userId: row.user_id,
  csrfToken: row.csrf_token,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  expiresAt: row.expires_at,
});

/** Signed-in browsers. */
@Injectable()
export class ConsoleSessionRepository {
  constructor(private readonly db: HiveDatabase) {}

  async insert(session: ConsoleSessionRecord): Promise<void> {
    await this.db.q
      .insertInto('console_sessions')
      .values({
        id_hash: session.idHash,
        user_id: session.userId,
        csrf_token: session.csrfToken,
        created_at: session.createdAt,
        last_used_at: session.lastUsedAt,
        expires_at: session.expiresAt,
      })
      .execute();
  }

  async find(idHash: string): Promise<ConsoleSessionRecord | undefined> {
    const row = await this.db.q.selectFrom('console_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row && toRecord(row);
  }

  async touch(idHash: string, lastUsedAt: string, expiresAt: string): Promise<void> {
    await this.db.q.updateTable('console_sessions').set({ last_used_at: lastUsedAt, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
  }

  async delete(idHash: string): Promise<void> {
    await this.db.q.deleteFrom('console_sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteExpired(now: string): Promise<number> {
    const result = await this.db.q.deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return affected(result) ? Number(result.numDeletedRows) : 0;
  }
}
