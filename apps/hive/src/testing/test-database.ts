// Test support: the Hive's database for a test, on SQLite (the default) or, when the test run
// says so (HIVE_TEST_DATABASE=postgres, set by the `postgres` jest project), on a fresh database
// of the test cluster that test/support/postgres.ts started (its socket folder in
// MOSAIC_TEST_POSTGRES_DIR). The same specs run against both.
import { Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { HiveDatabase } from '../database/database';
import { databaseNameOf } from '../database/database-url';
import { PostgresDatabase } from '../database/postgres-database';
import { IN_MEMORY, SqliteDatabase } from '../database/sqlite-database';

export type TestDatabaseKind = 'sqlite' | 'postgres';

/** Which store this test run uses. */
export function testDatabaseKind(): TestDatabaseKind {
  return process.env.HIVE_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
}

function socketDir(): string {
  const dir = process.env.MOSAIC_TEST_POSTGRES_DIR;
  if (!dir) throw new Error('HIVE_TEST_DATABASE=postgres needs the test cluster (MOSAIC_TEST_POSTGRES_DIR): run through the postgres jest project');
  return dir;
}

export function testClusterUrl(database: string): string {
  return `postgresql://postgres@/${encodeURIComponent(database)}?host=${encodeURIComponent(socketDir())}`;
}

/** Runs `sql` on the cluster's maintenance database (CREATE/DROP DATABASE cannot run in a transaction). */
async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: testClusterUrl('postgres'), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Databases this test file made; `dropTestDatabases` (after the file) drops them. */
const made = new Set<string>();

/**
 * A database of the test cluster for `key` (a Hive's dbPath): the same key gives the same
 * database within a test file, so a Hive restarted on the same path finds its data again;
 * `:memory:` gives a new one each time.
 */
export async function testPostgresUrl(key: string = IN_MEMORY): Promise<string> {
  const name =
    key === IN_MEMORY
      ? `hive_${randomBytes(8).toString('hex')}`
      : `hive_${createHash('sha256').update(`${process.pid}:${key}`).digest('hex').slice(0, 16)}`;
  if (!made.has(name)) {
    await admin(`CREATE DATABASE ${name}`);
    made.add(name);
  }
  return testClusterUrl(name);
}

export async function dropTestDatabase(url: string): Promise<void> {
  const name = databaseNameOf(url);
  if (!made.delete(name)) return;
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

export async function dropTestDatabases(): Promise<void> {
  for (const name of [...made]) {
    made.delete(name);
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** An open, migrated database for a spec: SQLite in memory, or a fresh PostgreSQL database dropped by `close`. */
export async function openTestDatabase(): Promise<HiveDatabase> {
  const logger = new Logger('Database');
  if (testDatabaseKind() === 'sqlite') return SqliteDatabase.open(IN_MEMORY, logger);
  const url = await testPostgresUrl();
  const db = await PostgresDatabase.open(url, { logger });
  const close = db.close.bind(db);
  db.close = async () => {
    await close();
    await dropTestDatabase(url);
  };
  return db;
}
