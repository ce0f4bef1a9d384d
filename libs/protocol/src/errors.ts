/** Every error code docs/protocol.md names. An error is `{ code, message, details? }`. */
export const ErrorCode = {
  // handshake (§1)
  UNAUTHORIZED: 'UNAUTHORIZED',
  PROTOCOL_UNSUPPORTED: 'PROTOCOL_UNSUPPORTED',
  PASSPHRASE_MISMATCH: 'PASSPHRASE_MISMATCH',
  NOT_AUTHENTICATED: 'NOT_AUTHENTICATED',
  // command acknowledgement (§2)
  UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  INVALID_PARAMS: 'INVALID_PARAMS',
  EXPIRED: 'EXPIRED',
  BUSY: 'BUSY',
  NOT_ALLOWED: 'NOT_ALLOWED',
  // command results (§2, §2.1–2.3)
  NOT_FOUND: 'NOT_FOUND',
  NOT_RUNNING: 'NOT_RUNNING',
  REPLICATION_FAILED: 'REPLICATION_FAILED',
  NOT_WRITER: 'NOT_WRITER',
  NOT_IN_CONTAINER: 'NOT_IN_CONTAINER',
  INSUFFICIENT_DISK: 'INSUFFICIENT_DISK',
  KEYS_MISSING: 'KEYS_MISSING',
  COMPOSE_INVALID: 'COMPOSE_INVALID',
  POLICY_VIOLATION: 'POLICY_VIOLATION',
  RESTORE_FAILED: 'RESTORE_FAILED',
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  DOCKER_ERROR: 'DOCKER_ERROR',
  UNKNOWN_APP_COMMAND: 'UNKNOWN_APP_COMMAND',
  /** §2.6: the new version did not come up; the previous one runs again (v1 + 2026-12-06). */
  ROLLED_BACK: 'ROLLED_BACK',
  // keys (§3)
  KEYS_EXIST: 'KEYS_EXIST',
  /** docs/protocol.md §7: a failure no other code describes (added in v1 as shipped). */
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ProtocolError {
  code: ErrorCode | string;
  message: string;
  details?: unknown;
}

export function protocolError(code: ErrorCode, message: string, details?: unknown): ProtocolError {
  return details === undefined ? { code, message } : { code, message, details };
}

/**
 * §7 (v1 + 2026-12-07): an `INTERNAL` refusal with `details: { retryable: true }` says the failure
 * is passing (the Hive's database is away): the sender keeps the message and sends it again later,
 * instead of dropping it as it drops any other refusal.
 */
export const RETRYABLE_DETAILS = { retryable: true } as const;

/** Does this refusal say "send it again later"? */
export function isRetryableError(error: { details?: unknown } | undefined): boolean {
  const details = error?.details;
  return typeof details === 'object' && details !== null && (details as { retryable?: unknown }).retryable === true;
}

/** An Error that carries a protocol error, so services can throw and the intake can report it. */
export class ProtocolException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ProtocolException';
  }

  toJSON(): ProtocolError {
    return protocolError(this.code, this.message, this.details);
  }
}

/** Turns anything thrown into a protocol error without leaking stack traces to the peer. */
export function toProtocolError(err: unknown, fallback: ErrorCode = ErrorCode.INTERNAL): ProtocolError {
  if (err instanceof ProtocolException) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return protocolError(fallback, message || 'Unexpected failure.');
}
