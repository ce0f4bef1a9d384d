import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HiveDatabase } from '../database/database';
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
    private readonly db: HiveDatabase,
    private readonly sessions: DeviceSessionRegistry,
    private readonly changes: ChangeFeed = new ChangeFeed(),
  ) {}

  /** The account exists from the first boot on, so `hello` always has a salt to send. */
  async onModuleInit(): Promise<void> {
    await this.db.transaction(async () => {
      if (await this.accounts.find()) return;
      const account: AccountRecord = {
        id: randomUUID(),
        passphraseSalt: randomBytes(PASSPHRASE_SALT_BYTES).toString('base64'),
        verifier: null,
        createdAt: new Date().toISOString(),
      };
      await this.accounts.insert(account);
      this.logger.log(`created account ${account.id}`);
    });
  }

  async current(): Promise<AccountRecord> {
    const account = await this.accounts.find();
    if (!account) throw new HiveError(HiveErrorCode.INTERNAL, 'The account has not been created.');
    return account;
  }

  async describe(): Promise<AccountView> {
    const account = await this.current();
    return { id: account.id, passphrase: { salt: account.passphraseSalt, set: account.verifier !== null } };
  }

  /**
   * Checks a device's proof. While no verifier is set, the first one proved becomes the
   * account's (docs/protocol.md §1); the adoption is one conditional write, so two devices
   * cannot both adopt: the second is checked against the first's.
   */
  async prove(verifier: string): Promise<ProofOutcome> {
    let account = await this.current();
    if (!account.verifier) {
      if (await this.accounts.adoptVerifier(account.id, hashVerifier(verifier), new Date().toISOString())) {
        this.logger.log('adopted the first passphrase verifier a device proved');
        return 'adopted';
      }
      account = await this.current();
    }
    return account.verifier && verifierMatches(verifier, account.verifier) ? 'matched' : 'mismatched';
  }

  /** Whether the verifier is the account's; false while none is set. Adopts nothing. */
  async matches(verifier: string): Promise<boolean> {
    const stored = (await this.current()).verifier;
    return stored !== null && verifierMatches(verifier, stored);
  }

  /**
   * Sets the verifier from the REST API. Replacing one drops every device connection, so each
   * device must prove the new passphrase before it gets another command.
   */
  async setVerifier(verifier: string, replace: boolean): Promise<AccountView> {
    const account = await this.current();
    const alreadySet = () =>
      new HiveError(HiveErrorCode.PASSPHRASE_ALREADY_SET, 'The account has a passphrase verifier already; send replace: true to replace it.');
    if (account.verifier && !replace) throw alreadySet();
    const at = new Date().toISOString();
    let replaced = account.verifier !== null;
    if (!replaced && !(await this.accounts.adoptVerifier(account.id, hashVerifier(verifier), at))) {
      // A device adopted one in the meantime.
      if (!replace) throw alreadySet();
      replaced = true;
    }
    if (replaced) await this.accounts.setVerifier(account.id, hashVerifier(verifier), at);
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
