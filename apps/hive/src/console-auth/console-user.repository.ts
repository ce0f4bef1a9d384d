import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { HiveDatabase, affected } from '../database/database';
import { ConsoleUserRow } from '../database/schema';

export interface ConsoleUserRecord {
  id: string;
  username: string;
  /** password-hash.ts format; never the password. */
  passwordHash: string;
  createdAt: string;
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
  constructor(private readonly db: HiveDatabase) {}

  async count(): Promise<number> {
    const row = await this.db.q
      .selectFrom('console_users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async findByUsername(username: string): Promise<ConsoleUserRecord | undefined> {
    const row = await this.db.q.selectFrom('console_users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toRecord(row);
  }

  async findById(id: string): Promise<ConsoleUserRecord | undefined> {
    const row = await this.db.q.selectFrom('console_users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Inserts only while there is no user yet (the check and the insert are one statement); false when one exists (a second first run lost the race). */
  async insertFirst(user: ConsoleUserRecord): Promise<boolean> {
    const result = await this.db.q
      .insertInto('console_users')
      .columns(['id', 'username', 'password_hash', 'created_at'])
      .expression(
        this.db.q
          .selectNoFrom([
            sql<string>`CAST(${user.id} AS TEXT)`.as('id'),
            sql<string>`CAST(${user.username} AS TEXT)`.as('username'),
            sql<string>`CAST(${user.passwordHash} AS TEXT)`.as('password_hash'),
            sql<string>`CAST(${user.createdAt} AS TEXT)`.as('created_at'),
          ])
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('console_users').select(sql`1`.as('one'))))),
      )
      .executeTakeFirst();
    return affected(result);
  }
}
