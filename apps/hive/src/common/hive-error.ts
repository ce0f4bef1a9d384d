import { ErrorCode, ProtocolError, protocolError } from '@mosaic/protocol';

/** The protocol's codes plus the few only Hive's own REST API and gateway use. */
export const HiveErrorCode = {
  ...ErrorCode,
  /** The device has no authenticated connection, so a command cannot reach it. */
  DEVICE_OFFLINE: 'DEVICE_OFFLINE',
  /** The account has a verifier already and the caller did not ask to replace it. */
  PASSPHRASE_ALREADY_SET: 'PASSPHRASE_ALREADY_SET',
  /** A device emitted an event the protocol does not define. */
  UNKNOWN_EVENT: 'UNKNOWN_EVENT',
  /** An app with this instance id is installed already. */
  APP_EXISTS: 'APP_EXISTS',
  /** The app's device was revoked: it has no device to send commands to until it is moved. */
  APP_UNASSIGNED: 'APP_UNASSIGNED',
  /** A move names the device the app is on already. */
  SAME_DEVICE: 'SAME_DEVICE',
  /** The app has an unfinished move: it cannot be moved, started or stopped until that move ends. */
  MOVE_IN_PROGRESS: 'MOVE_IN_PROGRESS',
  /** The move ended already (running, failed or cancelled): it cannot be cancelled. */
  MOVE_FINISHED: 'MOVE_FINISHED',
  /** A device did not acknowledge a command in time (a move's stop, for one). */
  NO_ANSWER: 'NO_ANSWER',
  /** The device has an upgrade under way: another one waits for its outcome. */
  UPGRADE_IN_PROGRESS: 'UPGRADE_IN_PROGRESS',
  /** Too many failed authentications from this caller: `details.retryAfterSeconds` says how long to wait. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The Console's first run is over: an operator account exists already. */
  ACCOUNT_EXISTS: 'ACCOUNT_EXISTS',
  /** A change through a Console session came without the session's CSRF token. */
  CSRF_MISMATCH: 'CSRF_MISMATCH',
  /** The Hive's database cannot be reached right now (down, restarting, not answering): retry later (REST: 503 with Retry-After). */
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
} as const;
export type HiveErrorCode = (typeof HiveErrorCode)[keyof typeof HiveErrorCode];

/** A failure services throw; the REST filter maps its code to an HTTP status, the gateway to an ack. */
export class HiveError extends Error {
  constructor(
    readonly code: HiveErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HiveError';
  }

  toJSON(): ProtocolError {
    return protocolError(this.code as ErrorCode, this.message, this.details);
  }
}
