import { Injectable } from '@nestjs/common';
import { ThrottlerStorageService, normalizeIp } from '@nestjs/throttler';
import { HiveError, HiveErrorCode } from '../common/hive-error';

/** At most `limit` failures within `ttlMs`; past that the caller is refused for `blockMs`. */
export interface ThrottleRule {
  limit: number;
  ttlMs: number;
  blockMs: number;
}

/**
 * The callers failed authentications are counted for. A real device proves once per connection
 * and never twice wrongly (it stops at PASSPHRASE_MISMATCH); several devices may share an address.
 */
export const AUTH_THROTTLE_RULES = {
  /** REST: a wrong or missing admin token, per client address. */
  restPerAddress: { limit: 10, ttlMs: 60_000, blockMs: 5 * 60_000 },
  /** passphrase.prove: a verifier that does not match, per device (whatever its connection). */
  provePerDevice: { limit: 5, ttlMs: 15 * 60_000, blockMs: 15 * 60_000 },
  /** passphrase.prove: the same, per client address (IPv6 per /64). */
  provePerAddress: { limit: 20, ttlMs: 15 * 60_000, blockMs: 15 * 60_000 },
  /** Console sign-in and first run: a wrong password or admin token, per client address. */
  loginPerAddress: { limit: 10, ttlMs: 60_000, blockMs: 5 * 60_000 },
  /** Console sign-in: wrong passwords for one user name, from anywhere. */
  loginPerUser: { limit: 20, ttlMs: 15 * 60_000, blockMs: 15 * 60_000 },
} as const satisfies Record<string, ThrottleRule>;

export type ThrottleRuleName = keyof typeof AUTH_THROTTLE_RULES;
export interface ThrottleKey {
  rule: ThrottleRuleName;
  /** The device id, user name or client address the failures are counted for. */
  id: string;
}

/** A client address as a counter's id: IPv6 addresses by their /64, as @nestjs/throttler does. */
export function addressKey(address: string | undefined): string {
  return normalizeIp(address ?? 'unknown');
}

/**
 * Counts failed authentications (REST admin token, passphrase proofs) with @nestjs/throttler's
 * storage, and refuses a caller that is over a limit, with RATE_LIMITED and how long to wait:
 * right credentials included, or guessing would go on and only the right guess would show.
 */
@Injectable()
export class AuthThrottle {
  constructor(private readonly storage: ThrottlerStorageService) {}

  /** Throws RATE_LIMITED when any of the keys is blocked now. */
  check(keys: ThrottleKey[], what: string): void {
    const waitS = Math.max(0, ...keys.map((key) => this.blockedForS(key)));
    if (waitS > 0) {
      throw new HiveError(HiveErrorCode.RATE_LIMITED, `Too many failed ${what} from here; try again in ${waitS} s.`, {
        retryAfterSeconds: waitS,
      });
    }
  }

  /** Counts one failure for each key; one over its limit is blocked from the next attempt on. */
  async failed(keys: ThrottleKey[]): Promise<void> {
    for (const { rule, id } of keys) {
      const { limit, ttlMs, blockMs } = AUTH_THROTTLE_RULES[rule];
      // The storage blocks once hits exceed its limit: limit - 1 blocks after the limit-th failure.
      await this.storage.increment(`${rule}:${id}`, ttlMs, limit - 1, blockMs, rule);
    }
  }

  private blockedForS({ rule, id }: ThrottleKey): number {
    const record = this.storage.storage.get(`${rule}:${id}`);
    const left = record?.isBlocked ? record.blockExpiresAt - Date.now() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }
}
