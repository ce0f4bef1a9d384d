import { Logger } from '@nestjs/common';
import { AccountRepository } from '../accounts/account.repository';
import { AccountService } from '../accounts/account.service';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { instanceKeys } from '../testing/fixtures';
import { InstanceKey, KeyRepository } from './key.repository';
import { KeysService } from './keys.service';

const INSTANCE = '2f1c1e0a-6d3b-4c43-9b1e-0b7c3f4f9a10';
const keysOf = (seed: string) => instanceKeys(seed) as InstanceKey[];

describe('KeysService', () => {
  let db: HiveDatabase;
  let keys: KeysService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    db = await openTestDatabase();
    const accounts = new AccountService(new AccountRepository(db), db, new DeviceSessionRegistry());
    await accounts.onModuleInit();
    keys = new KeysService(new KeyRepository(db), accounts, db);
  });

  afterEach(async () => db.close());

  it('stores the keys of an instance and gives them back', async () => {
    expect(await keys.put(INSTANCE, keysOf('a'), 'device-1')).toBe('stored');
    expect(await keys.get(INSTANCE)).toEqual(keysOf('a'));
  });

  it('accepts the very same keys again (a device re-sending from its outbox)', async () => {
    await keys.put(INSTANCE, keysOf('a'), 'device-1');
    expect(await keys.put(INSTANCE, [...keysOf('a')].reverse(), 'device-2')).toBe('unchanged');
  });

  it('refuses different keys for an instance with KEYS_EXIST and keeps the first ones', async () => {
    await keys.put(INSTANCE, keysOf('a'), 'device-1');
    const changed = keysOf('a');
    changed[1] = { ...changed[1], encryptedPrivateKey: keysOf('b')[1].encryptedPrivateKey };
    await expect(keys.put(INSTANCE, changed, 'device-1')).rejects.toEqual(expect.objectContaining({ code: 'KEYS_EXIST' }));
    await expect(keys.put(INSTANCE, keysOf('b'), 'device-2')).rejects.toEqual(expect.objectContaining({ code: 'KEYS_EXIST' }));
    expect(await keys.get(INSTANCE)).toEqual(keysOf('a'));
  });

  it('needs exactly one app key and one link key', async () => {
    const [app] = keysOf('a');
    await expect(keys.put(INSTANCE, [app, app], null)).rejects.toEqual(expect.objectContaining({ code: 'INVALID_PARAMS' }));
    await expect(keys.get(INSTANCE)).rejects.toEqual(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('answers NOT_FOUND for an instance without keys', async () => {
    await expect(keys.get(INSTANCE)).rejects.toEqual(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('tells which of many instances have keys, in one query per 500 instances, an instance asked twice counted once', async () => {
    const other = '9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
    await keys.put(INSTANCE, keysOf('a'), 'device-1');
    await keys.put(other, keysOf('b'), 'device-1');
    const unknown = Array.from({ length: 1200 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const executed = jest.spyOn(db.q.getExecutor(), 'executeQuery');
    expect(await keys.withKeys([...unknown.slice(0, 600), INSTANCE, INSTANCE, ...unknown.slice(600), other])).toEqual(new Set([INSTANCE, other]));
    // The account once, then three lists of at most 500 instances.
    expect(executed).toHaveBeenCalledTimes(4);
    expect(await keys.withKeys([])).toEqual(new Set());
    expect(executed).toHaveBeenCalledTimes(4);
  });
});
