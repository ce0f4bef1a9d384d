import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '../database/sqlite-database';

export interface ConsoleUserRecord {
  id: string;
  username: string;
  /** password-hash.ts format; never the password. */
  passwordHash: string;
  createdAt: string;
}

interface ConsoleUserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: string;
}

const toRecord = (row: ConsoleUserRow): ConsoleUserRecord => ({
  id: row.id,
  username: row.username,
  passwordHash: row.password_hash,
  createdAt: row.created_at,
});

/** The Console's operator account(s); this Hive makes exactly one, at first run. */
@Injectable()
export class ConsoleUserRepository {
  constructor(private readonly db: SqliteDatabase) {}

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM console_users').get() as { n: number }).n;
  }

  findByUsername(username: string): ConsoleUserRecord | undefined {
    const row = this.db.prepare('SELECT * FROM console_users WHERE username = ?').get(username) as ConsoleUserRow | undefined;
    return row && toRecord(row);
  }

  findById(id: string): ConsoleUserRecord | undefined {
    const row = this.db.prepare('SELECT * FROM console_users WHERE id = ?').get(id) as ConsoleUserRow | undefined;
    return row && toRecord(row);
  }

  /** Inserts only while there is no user yet; false when one exists (a second first run lost the race). */
  insertFirst(user: ConsoleUserRecord): boolean {
    return (
      this.db
        .prepare(
          'INSERT INTO console_users (id, username, password_hash, created_at) SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM console_users)',
        )
        .run(user.id, user.username, user.passwordHash, user.createdAt).changes > 0
    );
  }
}
