import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ProtocolError, protocolError } from '@mosaic/protocol';
import { HiveError, HiveErrorCode } from '../common/hive-error';
import { isDatabaseUnavailable } from '../database/database-unavailable';

/** Retry-After of a 503 DATABASE_UNAVAILABLE: a restart of the database takes seconds. */
export const DATABASE_RETRY_AFTER_S = 5;

/** The HTTP status of each error code the services throw; anything unlisted is a 500. */
const STATUS_OF: Partial<Record<HiveErrorCode, number>> = {
  [HiveErrorCode.INVALID_PARAMS]: HttpStatus.BAD_REQUEST,
  [HiveErrorCode.UNKNOWN_COMMAND]: HttpStatus.BAD_REQUEST,
  [HiveErrorCode.UNAUTHORIZED]: HttpStatus.UNAUTHORIZED,
  [HiveErrorCode.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [HiveErrorCode.DEVICE_OFFLINE]: HttpStatus.CONFLICT,
  [HiveErrorCode.PASSPHRASE_ALREADY_SET]: HttpStatus.CONFLICT,
  [HiveErrorCode.KEYS_EXIST]: HttpStatus.CONFLICT,
  [HiveErrorCode.APP_EXISTS]: HttpStatus.CONFLICT,
  [HiveErrorCode.APP_UNASSIGNED]: HttpStatus.CONFLICT,
  [HiveErrorCode.SAME_DEVICE]: HttpStatus.BAD_REQUEST,
  [HiveErrorCode.MOVE_IN_PROGRESS]: HttpStatus.CONFLICT,
  [HiveErrorCode.MOVE_FINISHED]: HttpStatus.CONFLICT,
  [HiveErrorCode.UPGRADE_IN_PROGRESS]: HttpStatus.CONFLICT,
  // A move is refused before anything stops when the Hive holds no keys a failover start could fetch.
  [HiveErrorCode.KEYS_MISSING]: HttpStatus.CONFLICT,
  [HiveErrorCode.RATE_LIMITED]: HttpStatus.TOO_MANY_REQUESTS,
  [HiveErrorCode.ACCOUNT_EXISTS]: HttpStatus.CONFLICT,
  [HiveErrorCode.CSRF_MISMATCH]: HttpStatus.FORBIDDEN,
  [HiveErrorCode.DATABASE_UNAVAILABLE]: HttpStatus.SERVICE_UNAVAILABLE,
};

/** Codes for the errors Nest and Express raise themselves (unknown route, bad JSON, body too large). */
const CODE_OF_STATUS: Record<number, string> = {
  [HttpStatus.BAD_REQUEST]: HiveErrorCode.INVALID_PARAMS,
  [HttpStatus.UNAUTHORIZED]: HiveErrorCode.UNAUTHORIZED,
  [HttpStatus.FORBIDDEN]: 'FORBIDDEN',
  [HttpStatus.NOT_FOUND]: HiveErrorCode.NOT_FOUND,
  [HttpStatus.METHOD_NOT_ALLOWED]: 'METHOD_NOT_ALLOWED',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'PAYLOAD_TOO_LARGE',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Every REST error body is `{ code, message, details? }`, whoever raised it. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Api');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') {
      // The gateway answers its own errors in acks; reaching here is a bug worth a log line.
      this.logger.error(`unhandled ${host.getType()} error: ${(exception as Error)?.stack ?? String(exception)}`);
      return;
    }
    const { status, body } = this.describe(exception);
    const response = host.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    const retryAfter = (body.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (status === HttpStatus.TOO_MANY_REQUESTS && typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
    if (body.code === HiveErrorCode.DATABASE_UNAVAILABLE) response.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_S));
    this.adapterHost.httpAdapter.reply(response, body, status);
  }

  private describe(exception: unknown): { status: number; body: ProtocolError } {
    if (exception instanceof HiveError) {
      return { status: STATUS_OF[exception.code] ?? HttpStatus.INTERNAL_SERVER_ERROR, body: exception.toJSON() };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { status, body: { code: CODE_OF_STATUS[status] ?? `HTTP_${status}`, message: exception.message } };
    }
    if (isDatabaseUnavailable(exception)) {
      // An outage, not a bug: one line without the stack; /health says the same to the load balancer.
      this.logger.warn(`request failed, the database is unavailable: ${(exception as Error).message}`);
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        body: new HiveError(HiveErrorCode.DATABASE_UNAVAILABLE, "The Hive's database cannot be reached right now; retry later.").toJSON(),
      };
    }
    this.logger.error(`request failed: ${(exception as Error)?.stack ?? String(exception)}`);
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: protocolError(HiveErrorCode.INTERNAL, 'Hive failed to handle the request.'),
    };
  }
}
