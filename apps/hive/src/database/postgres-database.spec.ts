import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactDatabaseUrl } from './database-url';
import { PostgresDatabase } from './postgres-database';

/** What needs no server: the password stays out of what the Hive says when it cannot connect. */
describe('PostgresDatabase without a server', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mosaic-pg-none-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('redacts the password of a URL, and only that', () => {
    expect(redactDatabaseUrl('postgres://hive:s3cret-pw@db.example:5432/hive?sslmode=require')).toBe(
      'postgres://hive:***@db.example:5432/hive?sslmode=require',
    );
    expect(redactDatabaseUrl('postgresql://hive@/hive?host=/run/postgresql')).toBe('postgresql://hive@/hive?host=/run/postgresql');
    expect(redactDatabaseUrl('not a url s3cret')).not.toContain('s3cret');
  });

  it('fails to open without a server, within its connect deadline, naming the URL without its password', async () => {
    const logged: string[] = [];
    const logger = new Logger('test');
    const keep = (message: unknown) => {
      logged.push(String(message));
    };
    jest.spyOn(logger, 'log').mockImplementation(keep);
    jest.spyOn(logger, 'warn').mockImplementation(keep);
    jest.spyOn(logger, 'error').mockImplementation(keep);
    const url = `postgresql://hive:s3cret-pw@/hive?host=${encodeURIComponent(dir)}`;
    const error: Error = await PostgresDatabase.open(url, { logger, timeouts: { connectMs: 500 } }).then(
      () => new Error('opened'),
      (err: Error) => err,
    );
    expect(error.message).toMatch(/^PostgreSQL at postgresql:\/\/hive:\*\*\*@\/hive\?host=/);
    expect(`${error.message} ${String(error.cause)} ${logged.join(' ')}`).not.toContain('s3cret-pw');
  });
});
