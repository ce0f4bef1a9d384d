import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { DatabaseConnection, Driver, Kysely, SqliteDialect, TransactionSettings, sql } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseCheck, HiveDatabase, HiveDb } from './database';
import { MIGRATIONS } from './migrations';
import { HiveTables } from './schema';

export const IN_MEMORY = ':memory:';

/**
 * better-sqlite3 with its prepared statements cached by SQL text: Kysely prepares per query, and
 * the texts it compiles are the repositories' queries, so the cache is bounded by the code.
 */
class CachingSqlite {
  readonly statements = new Map<string, Database.Statement>();
  constructor(readonly db: Database.Database) {}

  prepare(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  close(): void {
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

/**
 * One connection, one user at a time: a transaction holds it from BEGIN to COMMIT, and a query
 * from elsewhere waits for it instead of slipping into that transaction (Kysely's SQLite driver
 * hands the one connection to every caller).
 */
class SerialDriver implements Driver {
  private tail: Promise<void> = Promise.resolve();
  /** Lets the next caller in; set while someone holds the connection. */
  private release?: () => void;

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void;
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.release = release;
    return this.inner.acquireConnection();
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection(connection);
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

class SerialSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    return new SerialDriver(super.createDriver());
  }
}

/**
 * The embedded store: one SQLite file (or `:memory:`) through better-sqlite3, WAL on a file.
 * Open with `SqliteDatabase.open(path)`, which brings the schema up to date.
 */
export class SqliteDatabase extends HiveDatabase {
  readonly kind = 'sqlite' as const;
  readonly description: string;
  protected readonly root: HiveDb;
  private readonly connection: CachingSqlite;

  private constructor(readonly path: string) {
    super();
    this.description = path;
    if (path !== IN_MEMORY) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new Database(path);
    if (path !== IN_MEMORY) {
      // WAL lets REST reads run while the gateway writes; NORMAL is durable enough with WAL.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    this.connection = new CachingSqlite(db);
    this.root = new Kysely<HiveTables>({ dialect: new SerialSqliteDialect({ database: this.connection }) });
  }

  static async open(path: string, logger = new Logger('Database')): Promise<SqliteDatabase> {
    const database = new SqliteDatabase(path);
    try {
      const from = await database.migrate();
      if (from === 0) logger.log(`SQLite database ${path} created`);
      else if (from < MIGRATIONS.length) logger.log(`schema migrated from version ${from} to ${MIGRATIONS.length}`);
    } catch (err) {
      await database.close();
      throw err;
    }
    return database;
  }

  /** How many distinct statements have been prepared (for tests and /metrics). */
  get preparedStatements(): number {
    return this.connection.statements.size;
  }

  /**
   * Can the database be read? Through this connection, and, for a file, through a fresh read-only
   * one: this connection's page cache would hide a file that was removed, replaced or damaged.
   */
  async check(): Promise<DatabaseCheck> {
    try {
      this.connection.db.prepare('SELECT count(*) FROM sqlite_master').get();
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
    return this.connection.db.open;
  }

  async close(): Promise<void> {
    if (this.connection.db.open) await this.root.destroy();
  }

  protected async schemaVersion(db: HiveDb): Promise<number> {
    const { rows } = await sql<{ user_version: number }>`PRAGMA user_version`.execute(db);
    return rows[0]?.user_version ?? 0;
  }

  protected async setSchemaVersion(db: HiveDb, version: number): Promise<void> {
    await sql.raw(`PRAGMA user_version = ${Math.trunc(version)}`).execute(db);
  }
}
