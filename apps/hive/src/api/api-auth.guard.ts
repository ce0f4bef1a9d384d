import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { adminTokenMatches } from '../auth/admin-token';
import { AuthThrottle, ThrottleKey, addressKey } from '../auth/auth-throttle.service';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { ConsoleAuthService, SessionContext } from '../console-auth/console-auth.service';
import { CSRF_HEADER, SESSION_COOKIE, csrfMatches, readCookie } from '../console-auth/session-cookie';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** Methods that change nothing: a Console session needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthenticatedRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  /** Set when the request came with a Console session rather than the admin token. */
  consoleSession?: SessionContext;
}

/**
 * The REST API's credentials: `Authorization: Bearer <HIVE_ADMIN_TOKEN>` (the CLI, scripts), or a
 * Console session cookie, with the session's CSRF token in `X-CSRF-Token` on every change. Wrong
 * admin tokens and requests with no credential are counted per client address; past the limit
 * that address gets 429 RATE_LIMITED for a while, whatever it sends. (A session id is 256 random
 * bits: an unknown one is an expired session, not a guess worth counting.)
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly throttle: AuthThrottle,
    private readonly consoleAuth: ConsoleAuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // No proxy is trusted: the address is the socket's peer.
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const keys: ThrottleKey[] = [{ rule: 'restPerAddress', id: addressKey(request.ip) }];
    this.throttle.check(keys, 'admin token attempts');
    const header = request.headers.authorization;
    const cookie = readCookie(typeof request.headers.cookie === 'string' ? request.headers.cookie : undefined, SESSION_COOKIE);
    if (header === undefined && cookie !== undefined) return this.withSession(request, cookie);
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (adminTokenMatches(this.config.adminToken, token)) return true;
    await this.throttle.failed(keys);
    throw new HiveError(
      HiveErrorCode.UNAUTHORIZED,
      'Sign in to the Console, or send the admin token as Authorization: Bearer <HIVE_ADMIN_TOKEN>.',
    );
  }

  private async withSession(request: AuthenticatedRequest, sessionId: string): Promise<boolean> {
    const session = await this.consoleAuth.authenticate(sessionId);
    if (!session) throw new HiveError(HiveErrorCode.UNAUTHORIZED, 'The Console session has expired or was signed out; sign in again.');
    if (!SAFE_METHODS.has(request.method.toUpperCase())) {
      if (!csrfMatches(request.headers[CSRF_HEADER], session.csrfToken)) {
        throw new HiveError(HiveErrorCode.CSRF_MISMATCH, `A change through a Console session needs the session's ${CSRF_HEADER} header.`);
      }
    }
    request.consoleSession = session;
    return true;
  }
}
