/**
 * The storage plugin's environment contract, shared by the plugin (which reads it) and the
 * Device (which, in STORAGE_PLUGIN_MODE=container, hands it on to the plugin container).
 */

/** The plugin's own settings besides the ones the Device sets itself (driver, sockets, data dir). */
export const STORAGE_PLUGIN_SETTINGS = [
  'REPLICA_URL',
  'REPLICATION_INTERVAL_S',
  'RETENTION_KEEP_LAST',
  'RETENTION_KEEP_DAILY',
  'RETENTION_PRUNE_INTERVAL_S',
  'REPLICATION_RETRY_BASE_S',
  'REPLICATION_RETRY_MAX_S',
  'REPLICA_RETRY_WINDOW_S',
  'RESTIC_STALL_TIMEOUT_S',
  'STORAGE_METRICS_ADDRESS',
] as const;

/**
 * Variables restic (and the backends it drives) read themselves: credentials, certificates,
 * proxies. RESTIC_PASSWORD* and RESTIC_REPOSITORY* are not among them: the plugin sets those per volume.
 */
export const RESTIC_BACKEND_VARIABLES: readonly RegExp[] = [
  /^AWS_[A-Z0-9_]+$/,
  /^B2_ACCOUNT_(ID|KEY)$/,
  /^AZURE_[A-Z0-9_]+$/,
  /^GOOGLE_[A-Z0-9_]+$/,
  /^OS_[A-Z0-9_]+$/,
  /^ST_(AUTH|USER|KEY)$/,
  /^RCLONE_[A-Z0-9_]+$/,
  /^RESTIC_(CACERT|TLS_CLIENT_CERT|CACHE_DIR|PACK_SIZE|COMPRESSION|KEY_HINT|PROGRESS_FPS)$/,
  /^(HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy)$/,
  /^(SSL_CERT_FILE|SSL_CERT_DIR|TZ)$/,
];

/**
 * restic's credentials that it reads only from its environment (for others it takes a file of its
 * own: GOOGLE_APPLICATION_CREDENTIALS, RCLONE_CONFIG, AWS_SHARED_CREDENTIALS_FILE, …). Each may be
 * given as NAME_FILE instead: the plugin reads the file and hands restic the value.
 */
export const RESTIC_SECRET_VARIABLES: readonly string[] = [
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'B2_ACCOUNT_KEY',
  'AZURE_ACCOUNT_KEY',
  'AZURE_ACCOUNT_SAS',
  'GOOGLE_ACCESS_TOKEN',
  'OS_PASSWORD',
  'OS_APPLICATION_CREDENTIAL_SECRET',
  'ST_KEY',
];

/** Variables of the process itself that restic also needs; passed to restic, never to another container. */
export const RESTIC_PROCESS_VARIABLES: readonly RegExp[] = [/^(SSH_AUTH_SOCK|HOME|PATH|TMPDIR)$/];

/** A variable the Device hands on to the plugin container: restic's own, or NAME_FILE of one of restic's credentials. */
export function isResticBackendVariable(name: string): boolean {
  return RESTIC_BACKEND_VARIABLES.some((pattern) => pattern.test(name)) || RESTIC_SECRET_VARIABLES.some((secret) => name === `${secret}_FILE`);
}
