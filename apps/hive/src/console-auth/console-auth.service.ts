import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { adminTokenMatches } from '../auth/admin-token';
import { AuthThrottle, ThrottleKey, addressKey } from '../auth/auth-throttle.service';
import { Clock } from '../common/clock';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { HiveDatabase } from '../database/database';
import { ConsoleSessionRepository } from './console-session.repository';
import { ConsoleUserRepository } from './console-user.repository';
import { hashPassword, passwordMatches } from './password-hash';

/** A session lives this long after its last use… */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** …and never longer than this after sign-in. */
export const SESSION_MAX_MS = 7 * 24 * 60 * 60 * 1000;
/** A session's last use is written at most this often: not a database write per request. */
const TOUCH_EVERY_MS = 60_000;
const SESSION_ID_BYTES = 32;

/** A freshly signed-in browser: `id` goes into the cookie, `csrfToken` into the page. */
export interface NewSession {
  id: string;
  csrfToken: string;
  username: string;
  expiresAt: string;
}

/** A request's valid session. */
export interface SessionContext {
  idHash: string;
  userId: string;
  username: string;
  csrfToken: string;
  expiresAt: string;
}

export interface SessionStatus {
  /** No operator account yet: the Console shows its first-run page. */
  setupRequired: boolean;
  username: string | null;
  csrfToken: string | null;
}

const hashSessionId = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');

/**
 * The Console's operator account and its sessions. The password is kept as scrypt (password-hash.ts);
 * a session is a random id in an HttpOnly cookie, stored as its SHA-256, with a CSRF token the page
 * sends back on every change. Wrong passwords and admin tokens are rate-limited like the API's.
 */
@Injectable()
export class ConsoleAuthService {
  private readonly logger = new Logger('ConsoleAuth');
  /** Checked against when the user name is unknown, so timing does not tell which names exist; made on first need. */
  private decoy?: Promise<string>;

  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly users: ConsoleUserRepository,
    private readonly sessions: ConsoleSessionRepository,
    private readonly db: HiveDatabase,
    private readonly throttle: AuthThrottle,
    private readonly clock: Clock,
  ) {}

  async status(sessionId: string | undefined): Promise<SessionStatus> {
    const session = await this.authenticate(sessionId);
    return { setupRequired: (await this.users.count()) === 0, username: session?.username ?? null, csrfToken: session?.csrfToken ?? null };
  }

  /**
   * First run: creates the operator account and signs it in. Whoever reaches a fresh Hive first
   * could otherwise claim it, so the admin token (HIVE_ADMIN_TOKEN, which only the operator has) is asked for.
   */
  async setup(adminToken: string, username: string, password: string, address: string | undefined): Promise<NewSession> {
    const keys: ThrottleKey[] = [{ rule: 'loginPerAddress', id: addressKey(address) }];
    this.throttle.check(keys, 'sign-in attempts');
    if ((await this.users.count()) > 0) throw new HiveError(HiveErrorCode.ACCOUNT_EXISTS, 'The Console has an operator account already; sign in.');
    if (!adminTokenMatches(this.config.adminToken, adminToken)) {
      await this.throttle.failed(keys);
      throw new HiveError(HiveErrorCode.INVALID_PARAMS, 'The admin token is not this Hive’s HIVE_ADMIN_TOKEN.', [
        { field: 'adminToken', problems: ['is not this Hive’s HIVE_ADMIN_TOKEN'] },
      ]);
    }
    const user = { id: randomUUID(), username, passwordHash: await hashPassword(password), createdAt: this.now() };
    if (!(await this.users.insertFirst(user)))
      throw new HiveError(HiveErrorCode.ACCOUNT_EXISTS, 'The Console has an operator account already; sign in.');
    this.logger.log(`created the Console operator account "${username}"`);
    return this.open(user.id, username);
  }

  async login(username: string, password: string, address: string | undefined): Promise<NewSession> {
    const keys: ThrottleKey[] = [
      { rule: 'loginPerAddress', id: addressKey(address) },
      { rule: 'loginPerUser', id: username },
    ];
    this.throttle.check(keys, 'sign-in attempts');
    const user = await this.users.findByUsername(username);
    this.decoy ??= hashPassword(randomBytes(16).toString('hex'));
    const matches = await passwordMatches(password, user?.passwordHash ?? (await this.decoy));
    if (!user || !matches) {
      await this.throttle.failed(keys);
      throw new HiveError(HiveErrorCode.UNAUTHORIZED, 'The user name or the password is wrong.');
    }
    return this.open(user.id, user.username);
  }

  /** The valid session an id names, its idle deadline pushed back; undefined when unknown or expired. */
  async authenticate(sessionId: string | undefined): Promise<SessionContext | undefined> {
    if (!sessionId) return undefined;
    const idHash = hashSessionId(sessionId);
    const session = await this.sessions.find(idHash);
    if (!session) return undefined;
    const now = this.clock.now().getTime();
    if (Date.parse(session.expiresAt) <= now) {
      await this.sessions.delete(idHash);
      return undefined;
    }
    const user = await this.users.findById(session.userId);
    if (!user) return undefined;
    let expiresAt = session.expiresAt;
    if (now - Date.parse(session.lastUsedAt) >= TOUCH_EVERY_MS) {
      expiresAt = new Date(Math.min(now + SESSION_IDLE_MS, Date.parse(session.createdAt) + SESSION_MAX_MS)).toISOString();
      await this.sessions.touch(idHash, new Date(now).toISOString(), expiresAt);
    }
    return { idHash, userId: user.id, username: user.username, csrfToken: session.csrfToken, expiresAt };
  }

  /** A session that is not valid any more (expired, signed out) says so. */
  async isValid(idHash: string): Promise<boolean> {
    const session = await this.sessions.find(idHash);
    return session !== undefined && Date.parse(session.expiresAt) > this.clock.now().getTime();
  }

  async logout(sessionId: string | undefined): Promise<void> {
    if (sessionId) await this.sessions.delete(hashSessionId(sessionId));
  }

  private async open(userId: string, username: string): Promise<NewSession> {
    const id = randomBytes(SESSION_ID_BYTES).toString('base64url');
    const csrfToken = randomBytes(SESSION_ID_BYTES).toString('base64url');
    const now = this.clock.now().getTime();
    const expiresAt = new Date(now + SESSION_IDLE_MS).toISOString();
    await this.db.transaction(async () => {
      await this.sessions.deleteExpired(new Date(now).toISOString());
      await this.sessions.insert({
        idHash: hashSessionId(id),
        userId,
        csrfToken,
        createdAt: new Date(now).toISOString(),
        lastUsedAt: new Date(now).toISOString(),
        expiresAt,
      });
    });
    return { id, csrfToken, username, expiresAt };
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
