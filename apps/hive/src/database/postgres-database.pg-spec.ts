import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { Client } from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestHive, startTestHive } from '../testing/test-hive';
import { dropTestDatabase, testPostgresUrl } from '../testing/test-database';
import { databaseNameOf } from './database-url';
import { MIGRATIONS } from './migrations';
import { PostgresDatabase } from './postgres-database';
import { SqliteDatabase } from './sqlite-database';

/** PostgreSQL itself (the `postgres` jest project's cluster): what SQLite has no counterpart of. */
describe('PostgresDatabase', () => {
  const quiet = new Logger('test');
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  async function admin(url: string, statement: string): Promise<void> {
    const client = new Client({ connectionString: url.replace(/\/hive_[0-9a-f]+\?/, '/postgres?') });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  }

  // socket_io_attachments belongs to the cluster's socket.io adapter, which SQLite (one process) has no use for.
  it('makes the tables and columns the SQLite store has, with the same NOT NULLs', async () => {
    const url = await testPostgresUrl();
    const pg = await PostgresDatabase.open(url, { logger: quiet });
    const dir = mkdtempSync(join(tmpdir(), 'mosaic-pg-schema-'));
    try {
      await (await SqliteDatabase.open(join(dir, 'hive.db'), quiet)).close();
      const lite = new Database(join(dir, 'hive.db'), { readonly: true });
      const sqliteColumns = (lite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>)
        .flatMap(({ name }) =>
          (lite.pragma(`table_info(${name})`) as Array<{ name: string; notnull: number; pk: number }>).map(
            (c) => `${name}.${c.name} ${c.notnull || c.pk ? 'NOT NULL' : 'NULL'}`,
          ),
        )
        .sort();
      lite.close();
      const { rows } = await sql<{ table_name: string; column_name: string; is_nullable: string }>`
        SELECT table_name, column_name, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name NOT IN ('hive_schema', 'socket_io_attachments') AND column_name <> 'rowid'`.execute(pg.q);
      const pgColumns = rows.map((r) => `${r.table_name}.${r.column_name} ${r.is_nullable === 'YES' ? 'NULL' : 'NOT NULL'}`).sort();
      expect(pgColumns).toEqual(sqliteColumns);
    } finally {
      await pg.close();
      await dropTestDatabase(url);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migrates once when two Hive processes open a new database together', async () => {
    const url = await testPostgresUrl();
    const both = await Promise.all([PostgresDatabase.open(url, { logger: quiet }), PostgresDatabase.open(url, { logger: quiet })]);
    try {
      const { rows } = await sql<{ version: number }>`SELECT version FROM hive_schema`.execute(both[0].q);
      expect(rows).toEqual([{ version: MIGRATIONS.length }]);
      expect(await both[1].check()).toEqual({ ok: true });
    } finally {
      for (const db of both) await db.close();
      await dropTestDatabase(url);
    }
  });

  it('cancels a statement that outlives its deadline', async () => {
    const url = await testPostgresUrl();
    const db = await PostgresDatabase.open(url, { logger: quiet, timeouts: { statementMs: 300 } });
    try {
      await expect(sql`SELECT pg_sleep(10)`.execute(db.q)).rejects.toThrow(/statement timeout/);
      expect(await db.check()).toEqual({ ok: true });
    } finally {
      await db.close();
      await dropTestDatabase(url);
    }
  });

  describe('the Hive on it', () => {
    let hive: TestHive;
    let url: string;
    beforeEach(async () => {
      url = await testPostgresUrl();
      hive = await startTestHive({ databaseUrl: url });
    });
    afterEach(async () => {
      await hive.close();
      await admin(url, `ALTER DATABASE ${databaseNameOf(url)} WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
      await dropTestDatabase(url);
    });
    const health = () => fetch(`${hive.url}/api/health`).then(async (r) => ({ status: r.status, body: await r.json() }));

    it('answers /health 503 while the database cannot be reached, and 200 again by itself once it can', async () => {
      expect(await health()).toEqual({ status: 200, body: { ok: true, version: expect.any(String), database: { ok: true } } });
      const name = databaseNameOf(url);
      // The server refuses new connections to the Hive's database and ends the ones it has.
      await admin(url, `ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
      await admin(url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
      const down = await health();
      expect(down).toEqual({ status: 503, body: { ok: false, version: expect.any(String), database: { ok: false, error: expect.any(String) } } });
      expect(JSON.stringify(down.body)).not.toMatch(/postgres(ql)?:\/\//);
      await admin(url, `ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
      expect(await health()).toEqual({ status: 200, body: { ok: true, version: expect.any(String), database: { ok: true } } });
      const devices = await hive.api.get('/api/devices');
      expect(devices.status).toBe(200);
    });
  });
});
