import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { SqliteDatabase } from '../database/sqlite-database';
import { ChangeFeed } from '../changes/change-feed';
import { DeviceSessionRegistry } from '../sessions/device-session-registry';
import { AccountRecord, AccountRepository } from './account.repository';
import { hashVerifier, verifierMatches } from './verifier-hash';

/** docs/protocol.md §1 asks for at least 16 bytes of salt. */
const PASSPHRASE_SALT_BYTES = 16;

export interface AccountView {
  id: string;
  passphrase: { salt: string; set: boolean };
}

export type ProofOutcome = 'adopted' | 'matched' | 'mismatched';

/** The one account: its scrypt salt and the salted hash of its passphrase verifier. */
@Injectable()
export class AccountService implements OnModuleInit {
  private readonly logger = new Logger('Account');

  constructor(
    private readonly accounts: AccountRepository,
    private readonly db: SqliteDatabase,
    private readonly sessions: DeviceSessionRegistry,
    private readonly changes: ChangeFeed = new ChangeFeed(),
  ) {}

  /** The account exists from the first boot on, so `hello` always has a salt to send. */
  onModuleInit(): void {
    this.db.transaction(() => {
      if (this.accounts.find()) return;
      const account: AccountRecord = {
        id: randomUUID(),
        passphraseSalt: randomBytes(PASSPHRASE_SALT_BYTES).toString('base64'),
        verifier: null,
        createdAt: new Date().toISOString(),
      };
      this.accounts.insert(account);
      this.logger.log(`created account ${account.id}`);
    });
  }

  current(): AccountRecord {
    const account = this.accounts.find();
    if (!account) throw new HiveError(HiveErrorCode.INTERNAL, 'The account has not been created.');
    return account;
  }

  describe(): AccountView {
    const account = this.current();
    return { id: account.id, passphrase: { salt: account.passphraseSalt, set: account.verifier !== null } };
  }

  /**
   * Checks a device's proof. While no verifier is set, the first one proved becomes the
   * account's (docs/protocol.md §1); better-sqlite3 is synchronous, so two devices cannot both adopt.
   */
  prove(verifier: string): ProofOutcome {
    return this.db.transaction(() => {
      const account = this.current();
      if (!account.verifier) {
        this.accounts.setVerifier(account.id, hashVerifier(verifier), new Date().toISOString());
        this.logger.log('adopted the first passphrase verifier a device proved');
        return 'adopted';
      }
      return verifierMatches(verifier, account.verifier) ? 'matched' : 'mismatched';
    });
  }

  /** Whether the verifier is the account's; false while none is set. Adopts nothing. */
  matches(verifier: string): boolean {
    const stored = this.current().verifier;
    return stored !== null && verifierMatches(verifier, stored);
  }

  /**
   * Sets the verifier from the REST API. Replacing one drops every device connection, so each
   * device must prove the new passphrase before it gets another command.
   */
  setVerifier(verifier: string, replace: boolean): AccountView {
    const replaced = this.db.transaction(() => {
      const account = this.current();
      if (account.verifier && !replace) {
        throw new HiveError(
          HiveErrorCode.PASSPHRASE_ALREADY_SET,
          'The account has a passphrase verifier already; send replace: true to replace it.',
        );
      }
      this.accounts.setVerifier(account.id, hashVerifier(verifier), new Date().toISOString());
      return account.verifier !== null;
    });
    this.changes.publish('account');
    if (replaced) {
      this.logger.warn('passphrase verifier replaced; disconnecting every device so it proves the new one');
      this.sessions.disconnectAll();
    } else {
      this.logger.log('passphrase verifier set');
    }
    return this.describe();
  }
}
