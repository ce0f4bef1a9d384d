import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SqliteDatabase } from '../database/sqlite-database';
import { DeviceConnection } from '../sessions/device-connection';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { AccountRepository } from './account.repository';
import { AccountService } from './account.service';

const verifier = () => randomBytes(32).toString('base64');

describe('AccountService', () => {
  let db: SqliteDatabase;
  let sessions: DeviceSessionRegistry;
  let accounts: AccountService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    db = new SqliteDatabase(':memory:');
    sessions = new DeviceSessionRegistry();
    accounts = new AccountService(new AccountRepository(db), db, sessions);
    accounts.onModuleInit();
  });

  afterEach(() => db.close());

  it('creates one account with a random salt of at least 16 bytes, once', () => {
    const first = accounts.describe();
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Buffer.from(first.passphrase.salt, 'base64').length).toBeGreaterThanOrEqual(16);
    expect(first.passphrase.set).toBe(false);
    accounts.onModuleInit();
    expect(accounts.describe()).toEqual(first);
  });

  it('adopts the first proved verifier, then matches it and refuses others', () => {
    const v = verifier();
    expect(accounts.prove(v)).toBe('adopted');
    expect(accounts.describe().passphrase.set).toBe(true);
    expect(accounts.prove(v)).toBe('matched');
    expect(accounts.prove(verifier())).toBe('mismatched');
  });

  it('never stores the verifier itself', () => {
    const v = verifier();
    accounts.prove(v);
    const stored = JSON.stringify(db.prepare('SELECT * FROM account').all());
    expect(stored).not.toContain(v);
  });

  it('refuses to replace a set verifier unless asked to, and then drops every connection', () => {
    const old = verifier();
    accounts.setVerifier(old, false);
    expect(() => accounts.setVerifier(verifier(), false)).toThrow(expect.objectContaining({ code: 'PASSPHRASE_ALREADY_SET' }));
    expect(accounts.prove(old)).toBe('matched');

    const dropped: string[] = [];
    const connection: DeviceConnection = {
      connectionId: 'c1',
      deviceId: 'd1',
      emitWithAck: () => Promise.reject(new Error('not expected')),
      disconnect: () => dropped.push('c1'),
    };
    sessions.add(connection);
    const replacement = verifier();
    accounts.setVerifier(replacement, true);
    expect(dropped).toEqual(['c1']);
    expect(accounts.prove(old)).toBe('mismatched');
    expect(accounts.prove(replacement)).toBe('matched');
  });
});
