// Jest globalSetup of the `postgres` project: one throwaway PostgreSQL cluster for the run
// (test/support/postgres.ts). Test files find its socket folder in MOSAIC_TEST_POSTGRES_DIR and
// make databases of their own (apps/hive/src/testing/test-database.ts).
import { POSTGRES_SOCKET_DIR_ENV, PostgresCluster, startPostgresCluster } from './postgres';

const CLUSTER = Symbol.for('mosaic.test.postgres');

export default async function setup(): Promise<void> {
  const cluster = await startPostgresCluster();
  (globalThis as Record<symbol, PostgresCluster>)[CLUSTER] = cluster;
  process.env[POSTGRES_SOCKET_DIR_ENV] = cluster.socketDir;
}

export async function teardown(): Promise<void> {
  const cluster = (globalThis as Record<symbol, PostgresCluster | undefined>)[CLUSTER];
  delete process.env[POSTGRES_SOCKET_DIR_ENV];
  await cluster?.stop();
}
