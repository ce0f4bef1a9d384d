// Jest setup of the `postgres` project, in each test file: the Hive's test databases are
// PostgreSQL ones (apps/hive/src/testing/test-database.ts), dropped when the file ends.
import { dropTestDatabases } from '../../apps/hive/src/testing/test-database';

process.env.HIVE_TEST_DATABASE = 'postgres';
afterAll(() => dropTestDatabases());
