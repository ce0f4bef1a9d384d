import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { DeviceConnection } from '../sessions/device-connection';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { AccountRepository } from './account.repository';
import { AccountService } from './account.service';

const verifier = () => randomBytes(32).toString('base64');

describe('AccountService', () => {
  let db: HiveDatabase;
  let sessions: DeviceSessionRegistry;
  let accounts: AccountService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await openTestDatabase();
    sessions = new DeviceSessionRegistry();
    accounts = new AccountService(new AccountRepository(db), db, sessions);
    await accounts.onModuleInit();
  });

  afterEach(async () => db.close());

  it('creates one account with a random salt of at least 16 bytes, once', async () => {
    const first = await accounts.describe();
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Buffer.from(first.passphrase.salt, 'base64').length).toBeGreaterThanOrEqual(16);
    expect(first.passphrase.set).toBe(false);
    await accounts.onModuleInit();
    expect(await accounts.describe()).toEqual(first);
  });

  it('adopts the first proved verifier, then matches it and refuses others', async () => {
    const v = verifier();
    expect(await accounts.prove(v)).toBe('adopted');
    expect((await accounts.describe()).passphrase.set).toBe(true);
    expect(await accounts.prove(v)).toBe('matched');
    expect(await accounts.prove(verifier())).toBe('mismatched');
  });

  it('never stores the verifier itself', async () => {
    const v = verifier();
    await accounts.prove(v);
    const stored = JSON.stringify(await db.q.selectFrom('account').selectAll().execute());
    expect(stored).not.toContain(v);
  });

  it('refuses to replace a set verifier unless asked to, and then drops every connection', async () => {
    const old = verifier();
    await accounts.setVerifier(old, false);
    await expect(accounts.setVerifier(verifier(), false)).rejects.toEqual(expect.objectContaining({ code: 'PASSPHRASE_ALREADY_SET' }));
    expect(await accounts.prove(old)).toBe('matched');

    const dropped: string[] = [];
    const connection: DeviceConnection = {
      connectionId: 'c1',
      deviceId: 'd1',
      emitWithAck: () => Promise.reject(new Error('not expected')),
      disconnect: () => dropped.push('c1'),
    };
    sessions.add(connection);
    const replacement = verifier();
    await accounts.setVerifier(replacement, true);
    expect(dropped).toEqual(['c1']);
    expect(await accounts.prove(old)).toBe('mismatched');
    expect(await accounts.prove(replacement)).toBe('matched');
  });
});
