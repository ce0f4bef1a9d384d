import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '../database/sqlite-database';

export interface ConsoleSessionRecord {
  /** SHA-256 of the session id the cookie carries; the id itself is never stored. */
  idHash: string;
  userId: string;
  csrfToken: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
}

interface ConsoleSessionRow {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
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
  constructor(private readonly db: SqliteDatabase) {}

  insert(session: ConsoleSessionRecord): void {
    this.db
      .prepare(
        'INSERT INTO console_sessions (id_hash, user_id, csrf_token, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(session.idHash, session.userId, session.csrfToken, session.createdAt, session.lastUsedAt, session.expiresAt);
  }

  find(idHash: string): ConsoleSessionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM console_sessions WHERE id_hash = ?').get(idHash) as ConsoleSessionRow | undefined;
    return row && toRecord(row);
  }

  touch(idHash: string, lastUsedAt: string, expiresAt: string): void {
    this.db.prepare('UPDATE console_sessions SET last_used_at = ?, expires_at = ? WHERE id_hash = ?').run(lastUsedAt, expiresAt, idHash);
  }

  delete(idHash: string): void {
    this.db.prepare('DELETE FROM console_sessions WHERE id_hash = ?').run(idHash);
  }

  deleteExpired(now: string): number {
    return this.db.prepare('DELETE FROM console_sessions WHERE expires_at <= ?').run(now).changes;
  }
}
