import { Logger } from '@nestjs/common';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Pool, types } from 'pg';
import { DatabaseCheck, HiveDatabase, HiveDb } from './database';
import { redactDatabaseUrl } from './database-url';
import { MIGRATIONS } from './migrations';
import { HiveTables } from './schema';

/** Deadlines on every call to the server (the brief's rule: a deadline on every outside call). */
export interface PostgresTimeouts {
  /** Opening a connection. */
  connectMs: number;
  /** One statement, enforced by the server (statement_timeout) and by the client (query_timeout) a little later. */
  statementMs: number;
  /** /health's probe: it answers 503 after this rather than hang a load balancer's check. */
  checkMs: number;
}

export const POSTGRES_TIMEOUTS: PostgresTimeouts = { connectMs: 5_000, statementMs: 15_000, checkMs: 3_000 };
/** Connections per Hive process. */
export const POSTGRES_POOL_SIZE = 10;
/** pg_advisory_xact_lock key of the migrations: two Hive processes starting together migrate one after the other. */
const SCHEMA_LOCK = 0x6d6f7361; // 'mosa'

/** int8 (count(*), BIGINT columns) as a JavaScript number: every such value here is far below 2^53. */
const INT8_OID = 20;
const typeParsers = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : types.getTypeParser(oid, format as 'text'),
};

/**
 * PostgreSQL through a `pg` pool (HIVE_DATABASE_URL). The schema is the SQLite one, made by the
 * same migrations; its version lives in the table hive_schema. `pool` is there for what shares
 * the server later (a socket.io adapter, advisory locks of several Hive processes).
 */
export class PostgresDatabase extends HiveDatabase {
  readonly kind = 'postgres' as const;
  readonly description: string;
  protected readonly root: HiveDb;
  readonly pool: Pool;
  private readonly logger: Logger;

  private constructor(
    url: string,
    private readonly timeouts: PostgresTimeouts,
    logger: Logger,
  ) {
    super();
    this.logger = logger;
    this.description = redactDatabaseUrl(url);
    this.pool = new Pool({
      connectionString: url,
      max: POSTGRES_POOL_SIZE,
      connectionTimeoutMillis: timeouts.connectMs,
      statement_timeout: timeouts.statementMs,
      query_timeout: timeouts.statementMs + 1_000,
      idleTimeoutMillis: 30_000,
      application_name: 'mosaic-hive',
      types: typeParsers,
    });
    // An idle connection the server dropped (a restart): the pool replaces it; without a listener it would end the process.
    this.pool.on('error', (err) => this.logger.warn(`PostgreSQL connection lost: ${err.message}`));
    this.root = new Kysely<HiveTables>({ dialect: new PostgresDialect({ pool: this.pool }) });
  }

  /** Connects, brings the schema up to date, and hands the database back; throws (without the password) when it cannot. */
  static async open(url: string, options: { timeouts?: Partial<PostgresTimeouts>; logger?: Logger } = {}): Promise<PostgresDatabase> {
    const logger = options.logger ?? new Logger('Database');
    const database = new PostgresDatabase(url, { ...POSTGRES_TIMEOUTS, ...options.timeouts }, logger);
    try {
      const from = await database.migrate();
      if (from < MIGRATIONS.length) logger.log(`PostgreSQL schema migrated from version ${from} to ${MIGRATIONS.length}`);
    } catch (err) {
      await database.close();
      throw new Error(`PostgreSQL at ${database.description}: ${(err as Error).message}`, { cause: err });
    }
    return database;
  }

  async check(): Promise<DatabaseCheck> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeouts.checkMs} ms`)), this.timeouts.checkMs);
    });
    try {
      await Promise.race([sql`SELECT 1`.execute(this.root), deadline]);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.root.destroy();
  }

  protected async schemaVersion(db: HiveDb): Promise<number> {
    await sql`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`.execute(db);
    await sql`CREATE TABLE IF NOT EXISTS hive_schema (version integer NOT NULL)`.execute(db);
    const { rows } = await sql<{ version: number }>`SELECT version FROM hive_schema`.execute(db);
    return rows[0]?.version ?? 0;
  }

  protected async setSchemaVersion(db: HiveDb, version: number): Promise<void> {
    await sql`DELETE FROM hive_schema`.execute(db);
    await sql`INSERT INTO hive_schema (version) VALUES (${version})`.execute(db);
  }
}
