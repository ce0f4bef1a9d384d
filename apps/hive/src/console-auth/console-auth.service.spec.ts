import { Logger } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AuthThrottle } from '../auth/auth-throttle.service';
import { Clock } from '../common/clock';
import { HiveConfig } from '../config/hive-config';
import { HiveDatabase } from '../database/database';
import { openTestDatabase } from '../testing/test-database';
import { ConsoleAuthService, SESSION_IDLE_MS, SESSION_MAX_MS } from './console-auth.service';
import { ConsoleSessionRepository } from './console-session.repository';
import { ConsoleUserRepository } from './console-user.repository';

jest.setTimeout(30_000);

class FakeClock extends Clock {
  at = Date.parse('2026-12-01T00:00:00.000Z');
  override now(): Date {
    return new Date(this.at);
  }
}

const ADMIN_TOKEN = 'console-admin-token-0123';
const HOUR = 60 * 60 * 1000;

describe('ConsoleAuthService sessions', () => {
  let db: HiveDatabase;
  let storage: ThrottlerStorageService;
  let clock: FakeClock;
  let auth: ConsoleAuthService;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    db = await openTestDatabase();
    storage = new ThrottlerStorageService();
    clock = new FakeClock();
    const config = { adminToken: ADMIN_TOKEN } as HiveConfig;
    auth = new ConsoleAuthService(
      config,
      new ConsoleUserRepository(db),
      new ConsoleSessionRepository(db),
      db,
      new AuthThrottle(storage),
      clock,
    );
  });
  afterEach(async () => {
    storage.onApplicationShutdown();
    await db.close();
  });

  it('ends a session left unused for the idle time, and keeps one in use until the maximum age', async () => {
    const first = await auth.setup(ADMIN_TOKEN, 'operator', 'a long operator password', '127.0.0.1');
    clock.at += SESSION_IDLE_MS - 1000;
    expect((await auth.authenticate(first.id))?.username).toBe('operator');
    clock.at += SESSION_IDLE_MS + 1000;
    expect(await auth.authenticate(first.id)).toBeUndefined();
    expect(await auth.isValid('anything')).toBe(false);

    const second = await auth.login('operator', 'a long operator password', '127.0.0.1');
    const signedInAt = clock.at;
    while (clock.at + 11 * HOUR < signedInAt + SESSION_MAX_MS) {
      clock.at += 11 * HOUR;
      expect(await auth.authenticate(second.id)).toBeDefined();
    }
    clock.at = signedInAt + SESSION_MAX_MS;
    expect(await auth.authenticate(second.id)).toBeUndefined();
  });

  it('stores neither the session id nor the password', async () => {
    const session = await auth.setup(ADMIN_TOKEN, 'operator', 'a long operator password', '127.0.0.1');
    const stored = JSON.stringify([
      await db.q.selectFrom('console_sessions').selectAll().execute(),
      await db.q.selectFrom('console_users').selectAll().execute(),
    ]);
    expect(stored).not.toContain(session.id);
    expect(stored).not.toContain('a long operator password');
    await auth.logout(session.id);
    expect(await auth.authenticate(session.id)).toBeUndefined();
  });
});
