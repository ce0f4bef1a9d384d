import { Injectable } from '@nestjs/common';
import { HiveDatabase, affected } from '../database/database';
import { AccountRow } from '../database/schema';
import { VerifierHash } from './verifier-hash';

export interface AccountRecord {
  id: string;
  /** The scrypt salt devices derive their verifier with (base64). */
  passphraseSalt: string;
  verifier: VerifierHash | null;
  createdAt: string;
}

function toRecord(row: AccountRow): AccountRecord {
  return {
    id: row.id,
    passphraseSalt: row.passphrase_salt,
    verifier: row.verifier_hash && row.verifier_hash_salt ? { hash: row.verifier_hash, salt: row.verifier_hash_salt } : null,
    createdAt: row.created_at,
  };
}

/** The account row: this reference Hive serves exactly one account. */
@Injectable()
export class AccountRepository {
  constructor(private readonly db: HiveDatabase) {}

  async find(): Promise<AccountRecord | undefined> {
    const row = await this.db.q.selectFrom('account').selectAll().orderBy('created_at').limit(1).executeTakeFirst();
    return row && toRecord(row);
  }

  async insert(account: AccountRecord): Promise<void> {
    await this.db.q
      .insertInto('account')
      .values({
        id: account.id,
        passphrase_salt: account.passphraseSalt,
        verifier_hash: account.verifier?.hash ?? null,
        verifier_hash_salt: account.verifier?.salt ?? null,
        verifier_set_at: null,
        created_at: account.createdAt,
      })
      .execute();
  }

  /** Sets the verifier only while none is set (one statement: two devices cannot both adopt); true when it did. */
  async adoptVerifier(id: string, verifier: VerifierHash, at: string): Promise<boolean> {
    const result = await this.db.q
      .updateTable('account')
      .set({ verifier_hash: verifier.hash, verifier_hash_salt: verifier.salt, verifier_set_at: at })
      .where('id', '=', id)
      .where('verifier_hash', 'is', null)
      .executeTakeFirst();
    return affected(result);
  }

  async setVerifier(id: string, verifier: VerifierHash, at: string): Promise<void> {
    await this.db.q
      .updateTable('account')
      .set({ verifier_hash: verifier.hash, verifier_hash_salt: verifier.salt, verifier_set_at: at })
      .where('id', '=', id)
      .execute();
  }
}
