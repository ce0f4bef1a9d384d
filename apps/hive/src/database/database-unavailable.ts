/**
 * Is an error the database being out of reach (down, restarting, refusing connections, not
 * answering within its deadline) rather than a fault in the request? The REST API answers those
 * with 503 DATABASE_UNAVAILABLE and the gateway with a retryable ack; the Hive itself keeps
 * running, and its pool connects again once the server is back (docs/architecture.md
 * "A Hive cluster: deployment and database outages").
 */

/** SQLSTATE classes and codes of a server that cannot serve now (PostgreSQL appendix A). */
const UNAVAILABLE_SQLSTATE_CLASSES = [
  '08', // connection exception
  '53', // insufficient resources: too many connections, out of memory, disk full
  '57', // operator intervention: admin shutdown, crash shutdown, cannot connect now, statement timeout
  '58', // system error (I/O) in the server
];
/** Node's codes for a socket that cannot reach the server (TCP or unix socket): ENOENT is a missing socket file. */
const UNAVAILABLE_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** Only from the calls of a connection: a file the Hive cannot open (ENOENT from `open`) is no outage. */
const NETWORK_SYSCALLS = new Set(['connect', 'read', 'write', 'getaddrinfo']);
/** What `pg` throws, without a code, when a connection ends or a deadline passes. */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // "…unexpectedly", "…due to connection timeout"
  /^timeout exceeded when trying to connect$/,
  /^Query read timeout$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
];
/** SQLite: another connection holds the file's lock beyond the busy timeout. */
const SQLITE_UNAVAILABLE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

function unavailableItself(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return true;
    if (SQLITE_UNAVAILABLE.has(code)) return true;
    const syscall = (err as { syscall?: unknown }).syscall;
    if (UNAVAILABLE_SYSCALL_CODES.has(code) && typeof syscall === 'string' && NETWORK_SYSCALLS.has(syscall)) return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(message));
}

/** True when `err`, or an error it was caused by (a few levels down), says the database cannot be reached. */
export function isDatabaseUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (unavailableItself(current)) return true;
    if (current instanceof AggregateError && current.errors.some((inner) => unavailableItself(inner))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
