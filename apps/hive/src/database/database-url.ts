/**
 * HIVE_DATABASE_URL: which PostgreSQL database the Hive uses. Checked once at boot with clear
 * errors; the password never appears in an error or a log line (`redactDatabaseUrl`).
 *
 *   postgres://user:password@host:5432/hive
 *   postgresql://user@/hive?host=/run/postgresql     (a unix socket folder)
 */
export const DATABASE_URL_PARAMS: readonly string[] = ['host', 'sslmode', 'application_name'];
const SSL_MODES = ['disable', 'prefer', 'require', 'no-verify', 'verify-ca', 'verify-full'];

/** The URL with its password replaced by `***` (or a fixed text when it cannot be parsed). */
export function redactDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(an unparsable URL)';
  }
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** What is wrong with `url` as a HIVE_DATABASE_URL, one sentence each; empty when it is fine. */
export function databaseUrlProblems(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ['must be a URL such as postgres://user:password@host:5432/hive'];
  }
  const problems: string[] = [];
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    problems.push(`must start with postgres:// or postgresql:// (got ${parsed.protocol}//)`);
    return problems;
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) problems.push('must name one database after the host, as in postgres://host/hive');
  const socketFolder = parsed.searchParams.get('host');
  if (!parsed.hostname && !socketFolder) problems.push('must name a host, or a unix socket folder with ?host=/path');
  if (socketFolder !== null && !socketFolder.startsWith('/')) problems.push('?host= must be an absolute folder path (the unix socket folder)');
  if (parsed.port && (Number(parsed.port) < 1 || Number(parsed.port) > 65535)) problems.push('port must be from 1 to 65535');
  for (const name of new Set(parsed.searchParams.keys())) {
    if (!DATABASE_URL_PARAMS.includes(name)) problems.push(`?${name}= is not understood (known: ${DATABASE_URL_PARAMS.join(', ')})`);
  }
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) problems.push(`sslmode must be one of ${SSL_MODES.join(', ')}`);
  return problems;
}
