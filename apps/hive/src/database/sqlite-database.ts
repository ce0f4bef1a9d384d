import { Logger, OnApplicationShutdown } from '@nestjs/common';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations';

export const IN_MEMORY = ':memory:';

/**
 * The thin adapter around better-sqlite3: opens the file, brings the schema up to date, and
 * hands out prepared statements. Repositories hold the SQL; nothing else imports the driver.
 */
export class SqliteDatabase implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private readonly db: Database.Database;
  /** Prepared statements by their SQL: each is compiled once and reused (repositories prepare per call). */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly path: string) {
    if (path !== IN_MEMORY) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    if (path !== IN_MEMORY) {
      // WAL lets REST reads run while the gateway writes; NORMAL is durable enough with WAL.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  /**
   * The prepared statement for `sql`, compiled on first use and reused after: the SQL texts are
   * the repositories' constants, so the cache is bounded by the code, not by the data.
   */
  prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** How many distinct statements have been prepared (for tests and /metrics). */
  get preparedStatements(): number {
    return this.statements.size;
  }

  /** Runs `work` in one transaction; it commits when `work` returns and rolls back when it throws. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /**
   * Can the database be read? Through this connection, and, for a file, through a fresh read-only
   * one: this connection's page cache would hide a file that was removed, replaced or damaged.
   */
  check(): { ok: true } | { ok: false; error: string } {
    try {
      this.db.prepare('SELECT count(*) FROM sqlite_master').get();
      if (this.path !== IN_MEMORY) {
        const fresh = new Database(this.path, { readonly: true, fileMustExist: true, timeout: 2000 });
        try {
          fresh.prepare('SELECT count(*) FROM sqlite_master').get();
        } finally {
          fresh.close();
        }
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }

  onApplicationShutdown(): void {
    this.close();
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(`${this.path} has schema version ${current}, newer than this Hive knows (${MIGRATIONS.length})`);
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[version]);
        this.db.pragma(`user_version = ${version + 1}`);
      });
    }
    if (current < MIGRATIONS.length) this.logger.log(`schema migrated from version ${current} to ${MIGRATIONS.length}`);
  }
}
