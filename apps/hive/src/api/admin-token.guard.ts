import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthThrottle, ThrottleKey, addressKey } from '../auth/auth-throttle.service';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Hashing first gives both sides the same length, so the comparison leaks neither content nor length. */
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * The REST API's only credential: `Authorization: Bearer <HIVE_ADMIN_TOKEN>`, compared in constant
 * time. Wrong or missing tokens are counted per client address; past the limit that address gets
 * 429 RATE_LIMITED for a while, whatever it sends.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(
    @Inject(HIVE_CONFIG) config: HiveConfig,
    private readonly throttle: AuthThrottle,
  ) {
    this.expected = digest(config.adminToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // No proxy is trusted: the address is the socket's peer.
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined>; ip?: string }>();
    const keys: ThrottleKey[] = [{ rule: 'restPerAddress', id: addressKey(request.ip) }];
    this.throttle.check(keys, 'admin token attempts');
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (token !== undefined && timingSafeEqual(digest(token), this.expected)) return true;
    await this.throttle.failed(keys);
    throw new HiveError(HiveErrorCode.UNAUTHORIZED, 'Send the admin token as Authorization: Bearer <HIVE_ADMIN_TOKEN>.');
  }
}
