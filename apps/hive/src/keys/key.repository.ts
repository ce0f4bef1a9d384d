import { Injectable } from '@nestjs/common';
import { KeyRole } from '@mosaic/protocol';
import { HiveDatabase, inChunks } from '../database/database';

/** One key of an instance as §3 carries it; the private part is passphrase-encrypted by the device. */
export interface InstanceKey {
  role: KeyRole;
  fingerprint: string;
  publicKey: string;
  encryptedPrivateKey: string;
}

@Injectable()
export class KeyRepository {
  constructor(private readonly db: HiveDatabase) {}

  /** Ordered by role, so `app` comes before `link`. */
  async find(accountId: string, instance: string): Promise<InstanceKey[]> {
    const rows = await this.db.q
      .selectFrom('instance_keys')
      .select(['role', 'fingerprint', 'public_key', 'encrypted_private_key'])
      .where('account_id', '=', accountId)
      .where('instance', '=', instance)
      .orderBy('role')
      .execute();
    return rows.map((row) => ({
      role: row.role as KeyRole,
      fingerprint: row.fingerprint,
      publicKey: row.public_key,
      encryptedPrivateKey: row.encrypted_private_key,
    }));
  }

  /** Which of `instances` have keys stored for the account (one query per IN_LIST_MAX instances). */
  async instancesWithKeys(accountId: string, instances: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const chunk of inChunks(instances)) {
      const rows = await this.db.q
        .selectFrom('instance_keys')
        .select('instance')
        .distinct()
        .where('account_id', '=', accountId)
        .where('instance', 'in', chunk)
        .execute();
      for (const row of rows) found.add(row.instance);
    }
    return found;
  }

  /**
   * The instances a device may open keys of ahead (§3 keys.list): apps not installed on `deviceId`
   * (on another device, or on none since theirs was revoked) whose keys the account holds, oldest
   * app first, at most `limit`.
   */
  async instancesAhead(accountId: string, deviceId: string, limit: number): Promise<string[]> {
    const rows = await this.db.q
      .selectFrom('apps')
      .select('apps.instance')
      .where((eb) => eb.or([eb('apps.device_id', 'is', null), eb('apps.device_id', '!=', deviceId)]))
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('instance_keys')
            .select('instance_keys.instance')
            .whereRef('instance_keys.instance', '=', 'apps.instance')
            .where('instance_keys.account_id', '=', accountId),
        ),
      )
      .orderBy('apps.created_at')
      .orderBy('apps.instance')
      .limit(limit)
      .execute();
    return rows.map((row) => row.instance);
  }

  async insert(accountId: string, instance: string, key: InstanceKey, deviceId: string | null, at: string): Promise<void> {
    await this.db.q
      .insertInto('instance_keys')
      .values({
        account_id: accountId,
        instance,
        role: key.role,
        fingerprint: key.fingerprint,
        public_key: key.publicKey,
        encrypted_private_key: key.encryptedPrivateKey,
        put_by_device: deviceId,
        created_at: at,
      })
      .execute();
  }
}
