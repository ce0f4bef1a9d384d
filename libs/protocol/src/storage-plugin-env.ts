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

/** Variables of the process itself that restic also needs; passed to restic, never to another container. */
export const RESTIC_PROCESS_VARIABLES: readonly RegExp[] = [/^(SSH_AUTH_SOCK|HOME|PATH|TMPDIR)$/];

export function isResticBackendVariable(name: string): boolean {
  return RESTIC_BACKEND_VARIABLES.some((pattern) => pattern.test(name));
}
