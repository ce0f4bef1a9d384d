/**
 * HIVE_DATABASE_URL: which PostgreSQL database the Hive uses. Checked once at boot with clear
 * errors; the password never appears in an error or a log line (`redactDatabaseUrl`).
 *
 *   postgres://user:password@host:5432/hive
 *   postgresql://user@/hive?host=/run/postgresql     (a unix socket folder)
 */
export const DATABASE_URL_PARAMS: readonly string[] = ['host', 'sslmode', 'application_name'];
const SSL_MODES = ['disable', 'prefer', 'require', 'no-verify', 'verify-ca', 'verify-full'];

/** Stands in for the empty host of `postgresql://user@/db?host=/socket/folder`, which WHATWG URLs refuse. */
const NO_HOST = 'no-host.invalid';

/** The URL parsed, the libpq form with a user and no host included; null when it is no URL. */
function parse(url: string): { parsed: URL; noHost: boolean } | null {
  const noHost = /^postgres(?:ql)?:\/\/[^/@]*@\//.test(url);
  try {
    return { parsed: new URL(noHost ? url.replace('@/', `@${NO_HOST}/`) : url), noHost };
  } catch {
    return null;
  }
}

/** The URL with its password replaced by `***` (or a fixed text when it cannot be parsed). */
export function redactDatabaseUrl(url: string): string {
  const result = parse(url);
  if (!result) return '(an unparsable URL)';
  const { parsed, noHost } = result;
  if (parsed.password) parsed.password = '***';
  const text = parsed.toString();
  return noHost ? text.replace(`@${NO_HOST}/`, '@/') : text;
}

/** The database a valid URL names. */
export function databaseNameOf(url: string): string {
  const result = parse(url);
  if (!result) throw new Error('not a database URL');
  return decodeURIComponent(result.parsed.pathname.replace(/^\//, ''));
}

/** What is wrong with `url` as a HIVE_DATABASE_URL, one sentence each; empty when it is fine. */
export function databaseUrlProblems(url: string): string[] {
  const result = parse(url);
  if (!result) return ['must be a URL such as postgres://user:password@host:5432/hive'];
  const { parsed, noHost } = result;
  const problems: string[] = [];
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    problems.push(`must start with postgres:// or postgresql:// (got ${parsed.protocol}//)`);
    return problems;
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) problems.push('must name one database after the host, as in postgres://host/hive');
  const socketFolder = parsed.searchParams.get('host');
  if ((noHost || !parsed.hostname) && !socketFolder) problems.push('must name a host, or a unix socket folder with ?host=/path');
  if (socketFolder !== null && !socketFolder.startsWith('/')) problems.push('?host= must be an absolute folder path (the unix socket folder)');
  if (parsed.port && (Number(parsed.port) < 1 || Number(parsed.port) > 65535)) problems.push('port must be from 1 to 65535');
  for (const name of new Set(parsed.searchParams.keys())) {
    if (!DATABASE_URL_PARAMS.includes(name)) problems.push(`?${name}= is not understood (known: ${DATABASE_URL_PARAMS.join(', ')})`);
  }
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) problems.push(`sslmode must be one of ${SSL_MODES.join(', ')}`);
  return problems;
}
