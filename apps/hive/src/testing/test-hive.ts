// Test support: builds a real Hive in this process, the way the Hive's specs and e2e tests use it.
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { HiveOptions } from '../config/hive-config';
import { configureHiveApplication, listenHive } from '../hive-application';
import { HiveModule } from '../hive.module';
import { HiveApiClient } from './hive-api-client';
import { dropTestDatabase, testDatabaseKind, testPostgresUrl } from './test-database';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestHive {
  app: NestExpressApplication;
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** REST client that sends the admin token. */
  api: HiveApiClient;
  close(): Promise<void>;
}

/**
 * A Hive on 127.0.0.1 and a free port, with an in-memory database unless `dbPath` says otherwise.
 * In a PostgreSQL test run (test-database.ts) the database is one of the test cluster's instead:
 * a new one for `:memory:` (dropped on close), the same one again for the same `dbPath`.
 */
export async function startTestHive(options: Partial<HiveOptions> = {}): Promise<TestHive> {
  const dbPath = options.dbPath ?? ':memory:';
  const databaseUrl = options.databaseUrl ?? (testDatabaseKind() === 'postgres' ? await testPostgresUrl(dbPath) : undefined);
  const moduleRef = await Test.createTestingModule({
    imports: [
      HiveModule.forRoot({
        adminToken: TEST_ADMIN_TOKEN,
        host: '127.0.0.1',
        port: 0,
        ...options,
        dbPath,
        ...(databaseUrl !== undefined && { databaseUrl }),
      }),
    ],
  }).compile();
  const app = configureHiveApplication(moduleRef.createNestApplication<NestExpressApplication>({ logger: false }));
  const { url, port } = await listenHive(app);
  const close = async () => {
    await app.close();
    if (databaseUrl !== undefined && options.databaseUrl === undefined && dbPath === ':memory:') await dropTestDatabase(databaseUrl);
  };
  return { app, url, port, api: new HiveApiClient(url, options.adminToken ?? TEST_ADMIN_TOKEN), close };
}
