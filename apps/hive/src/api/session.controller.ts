import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiDefaultResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { HIVE_CONFIG, HiveConfig } from '../config/hive-config';
import { ConsoleAuthService, NewSession, SESSION_IDLE_MS, SessionStatus } from '../console-auth/console-auth.service';
import { CSRF_HEADER, SESSION_COOKIE, csrfMatches, readCookie } from '../console-auth/session-cookie';
import { API_PREFIX } from './api-routes';
import { LoginDto, SetupDto } from './dto/console-session.dto';
import { ErrorSchema, SessionStatusSchema } from './openapi/schemas';
import { parseBody } from './request-validation';

/** The parts of Express's request and response the session routes use. */
interface SessionRequest {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  secure: boolean;
}
interface CookieResponse {
  cookie(name: string, value: string, options: Record<string, unknown>): unknown;
  clearCookie(name: string, options: Record<string, unknown>): unknown;
}

const cookieOf = (request: SessionRequest) =>
  readCookie(typeof request.headers.cookie === 'string' ? request.headers.cookie : undefined, SESSION_COOKIE);

/**
 * The Console's sign-in: open (no credential needed), rate-limited on failures. The session id
 * travels only in an HttpOnly, SameSite=Strict cookie; the page gets the CSRF token it must send back.
 */
@ApiTags('console session')
@ApiDefaultResponse({ type: ErrorSchema, description: 'An error: { code, message, details? }' })
@Controller(`${API_PREFIX}/session`)
export class SessionController {
  constructor(
    @Inject(HIVE_CONFIG) private readonly config: HiveConfig,
    private readonly auth: ConsoleAuthService,
  ) {}

  /** Whether the first run is due, and who is signed in (with the CSRF token) when someone is. */
  @Get()
  @ApiOkResponse({ type: SessionStatusSchema })
  async status(@Req() request: SessionRequest): Promise<SessionStatus> {
    return this.auth.status(cookieOf(request));
  }

  /** First run: creates the operator account (the admin token proves who runs the Hive) and signs in. */
  @Post('setup')
  @ApiBody({ type: SetupDto })
  @ApiOkResponse({ type: SessionStatusSchema })
  @HttpCode(HttpStatus.OK)
  async setup(
    @Body() body: unknown,
    @Req() request: SessionRequest,
    @Res({ passthrough: true }) response: CookieResponse,
  ): Promise<SessionStatus> {
    const { adminToken, username, password } = parseBody(SetupDto, body);
    return this.signedIn(await this.auth.setup(adminToken, username, password, request.ip), request, response);
  }

  @Post()
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: SessionStatusSchema })
  @HttpCode(HttpStatus.OK)
  async login(
    @Body() body: unknown,
    @Req() request: SessionRequest,
    @Res({ passthrough: true }) response: CookieResponse,
  ): Promise<SessionStatus> {
    const { username, password } = parseBody(LoginDto, body);
    return this.signedIn(await this.auth.login(username, password, request.ip), request, response);
  }

  /** Signs out: the session is forgotten and the cookie cleared. A live session must send its CSRF token. */
  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(@Req() request: SessionRequest, @Res({ passthrough: true }) response: CookieResponse): Promise<void> {
    const sessionId = cookieOf(request);
    const session = await this.auth.authenticate(sessionId);
    if (session && !csrfMatches(request.headers[CSRF_HEADER], session.csrfToken)) {
      throw new HiveError(HiveErrorCode.CSRF_MISMATCH, `Signing out needs the session's ${CSRF_HEADER} header.`);
    }
    await this.auth.logout(sessionId);
    response.clearCookie(SESSION_COOKIE, this.cookieOptions(request));
  }

  private signedIn(session: NewSession, request: SessionRequest, response: CookieResponse): SessionStatus {
    response.cookie(SESSION_COOKIE, session.id, { ...this.cookieOptions(request), maxAge: SESSION_IDLE_MS });
    return { setupRequired: false, username: session.username, csrfToken: session.csrfToken };
  }

  private cookieOptions(request: SessionRequest): Record<string, unknown> {
    const secure = request.secure || this.config.publicUrl?.startsWith('https:') === true;
    return { httpOnly: true, sameSite: 'strict', secure, path: '/' };
  }
}
