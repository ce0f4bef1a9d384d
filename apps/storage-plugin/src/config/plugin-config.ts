export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

/** Every setting of the storage plugin (docs/protocol.md §6 and the rest), validated once at boot. */
export interface PluginConfig {
  /** STORAGE_DRIVER: the plugin serves `<pluginDir>/<driver>.sock`. */
  driver: string;
  pluginDir: string;
  /** STORAGE_PLUGIN_SOCKET: the control API for the Device. */
  controlSocket: string;
  /** STORAGE_DATA_DIR: `volumes/<name>/data` per volume, `state.json`, restic's cache. */
  dataDir: string;
  /** REPLICA_URL without a trailing slash: a local path or a restic repository URL prefix. */
  replicaUrl: string;
  replicationIntervalS: number;
  retentionKeepLast: number;
  retentionKeepDaily: number;
  /** At most one `forget --prune` per volume in this many seconds (0: after every snapshot). */
  pruneIntervalS: number;
  /** Back-off after a failed replication: first delay, doubling up to the cap. */
  retryBaseS: number;
  retryMaxS: number;
  resticBinary: string;
  /** How long restic may keep retrying an unreachable replica store before the run is ended. */
  storeRetryS: number;
  /** A restic run that makes no progress (no output, no bytes read or written) for this long is stopped. */
  resticStallTimeoutS: number;
  /**
   * The environment every restic child gets: restic's own backend variables (credentials,
   * certificates, proxies) passed through from the plugin's environment. Never logged.
   */
  resticEnv: Record<string, string>;
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  /** STORAGE_METRICS_ADDRESS: GET /metrics and /health over TCP; undefined when off (the default). */
  metricsAddress?: { host: string; port: number };
  /** DEVTOOLS: Nest records its module graph snapshot. */
  devtools: boolean;
  /** Nest's devtools server (DEVTOOLS_ADDRESS, loopback): only with DEVTOOLS_ALLOW_CODE=true as well, since it runs code sent to it. */
  devtoolsServer?: { host: string; port: number };
}

export const PLUGIN_CONFIG = Symbol('PLUGIN_CONFIG');
