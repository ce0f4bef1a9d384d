import { Injectable, Logger } from '@nestjs/common';
import { KEYS_LIST_MAX, KEY_ROLES } from '@mosaic/protocol';
import { AccountService } from '../accounts/account.service';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HiveDatabase } from '../database/database';
import { InstanceKey, KeyRepository } from './key.repository';

export type KeysPutOutcome = 'stored' | 'unchanged';

function sameKey(a: InstanceKey, b: InstanceKey): boolean {
  return (
    a.role === b.role &&
    a.fingerprint === b.fingerprint &&
    a.publicKey === b.publicKey &&
    a.encryptedPrivateKey === b.encryptedPrivateKey
  );
}

/**
 * The two key pairs of each app instance (§3), kept for the account so another device can take
 * the instance over. Keys once stored are never replaced: that would orphan the replicas.
 */
@Injectable()
export class KeysService {
  private readonly logger = new Logger('Keys');

  constructor(
    private readonly keys: KeyRepository,
    private readonly accounts: AccountService,
    private readonly db: HiveDatabase,
  ) {}

  /** Stores an instance's `app` and `link` keys; the same keys again are fine, different ones are KEYS_EXIST. */
  async put(instance: string, keys: readonly InstanceKey[], deviceId: string | null): Promise<KeysPutOutcome> {
    const roles = new Set(keys.map((key) => key.role));
    if (keys.length !== KEY_ROLES.length || !KEY_ROLES.every((role) => roles.has(role))) {
      throw new HiveError(HiveErrorCode.INVALID_PARAMS, 'keys must hold exactly one app key and one link key.', [
        { field: 'keys', problems: [`must hold one key of each role (${KEY_ROLES.join(', ')})`] },
      ]);
    }
    const wanted = keys.map((key) => ({
      role: key.role,
      fingerprint: key.fingerprint,
      publicKey: key.publicKey,
      encryptedPrivateKey: key.encryptedPrivateKey,
    }));
    try {
      return await this.store(instance, wanted, deviceId);
    } catch (err) {
      // Another device stored this instance's keys in the meantime: compare with those.
      if (!this.db.isUniqueViolation(err)) throw err;
      return this.store(instance, wanted, deviceId);
    }
  }

  private store(instance: string, wanted: InstanceKey[], deviceId: string | null): Promise<KeysPutOutcome> {
    return this.db.transaction(async () => {
      const accountId = (await this.accounts.current()).id;
      const existing = await this.keys.find(accountId, instance);
      if (existing.length > 0) {
        const identical =
          existing.length === wanted.length && wanted.every((key) => existing.some((stored) => sameKey(stored, key)));
        if (identical) return 'unchanged' as const;
        this.logger.warn(`refused different keys for instance ${instance}${deviceId ? ` from device ${deviceId}` : ''}`);
        throw new HiveError(HiveErrorCode.KEYS_EXIST, `Instance ${instance} has different keys already; Hive never replaces keys.`);
      }
      const at = new Date().toISOString();
      for (const key of wanted) await this.keys.insert(accountId, instance, key, deviceId, at);
      this.logger.log(`stored the keys of instance ${instance}`);
      return 'stored' as const;
    });
  }

  /** Which of `instances` have keys in the Hive: one read of the account and one query, however many. */
  async withKeys(instances: readonly string[]): Promise<Set<string>> {
    if (!instances.length) return new Set();
    return this.keys.instancesWithKeys((await this.accounts.current()).id, instances);
  }

  /** Throws NOT_FOUND when the instance has no keys. */
  /** §3 keys.list: the instances whose keys `deviceId` may open ahead (KEYS_LIST_MAX at most). */
  async listAhead(deviceId: string): Promise<string[]> {
    return this.keys.instancesAhead((await this.accounts.current()).id, deviceId, KEYS_LIST_MAX);
  }

  async get(instance: string): Promise<InstanceKey[]> {
    const keys = await this.keys.find((await this.accounts.current()).id, instance);
    if (keys.length === 0) throw new HiveError(HiveErrorCode.NOT_FOUND, `Hive has no keys for instance ${instance}.`);
    return keys;
  }
}
