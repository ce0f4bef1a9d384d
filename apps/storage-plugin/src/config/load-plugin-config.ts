import { isAbsolute, join } from 'node:path';
import { parseListenAddress, readDevtoolsSettings, readSecretSetting } from '@mosaic/ops';
import { RESTIC_BACKEND_VARIABLES, RESTIC_PROCESS_VARIABLES, RESTIC_SECRET_VARIABLES } from '@mosaic/protocol';
import { redactUrl } from '../common/redact';
import { PluginConfig } from './plugin-config';

export type Env = Record<string, string | undefined>;
export type ConfigResult = { ok: true; config: PluginConfig } | { ok: false; errors: string[] };

class BadSetting extends Error {}

/** Repository URL prefixes restic speaks; a replica is `<prefix…>/<volume name>` below one. */
const REPOSITORY_PREFIXES = ['local:', 'sftp:', 'rest:', 's3:', 'b2:', 'azure:', 'gs:', 'swift:', 'rclone:'];

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

const parse = {
  absolutePath(value: string): string {
    if (!isAbsolute(value)) throw new BadSetting(`must be an absolute path, got "${value}"`);
    return value.length > 1 ? value.replace(/\/+$/, '') : value;
  },
  /** A unix socket path: absolute, and short enough for sockaddr_un (107 bytes). */
  socketPath(value: string): string {
    const path = parse.absolutePath(value);
    if (Buffer.byteLength(path) > 107) throw new BadSetting(`is longer than a unix socket path may be (107 bytes)`);
    return path;
  },
  driverName(value: string): string {
    if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(value)) throw new BadSetting(`must be a plain driver name such as mosaic, got "${value}"`);
    return value;
  },
  replicaUrl(value: string): string {
    if (!/^[\x21-\x7e]+$/.test(value)) throw new BadSetting('must be printable ASCII without spaces');
    const trimmed = value.replace(/\/+$/, '');
    if (isAbsolute(value)) return trimmed || '/';
    const prefix = REPOSITORY_PREFIXES.find((p) => value.startsWith(p));
    if (!prefix || trimmed.length <= prefix.length) {
      throw new BadSetting(
        `must be an absolute path or a restic repository URL (${REPOSITORY_PREFIXES.join(', ')}…), got "${redactUrl(value)}"`,
      );
    }
    if (prefix === 'rest:' && !/^rest:https?:\/\/[^/]+/.test(value))
      throw new BadSetting(`must be rest:http(s)://host[:port][/path], got "${redactUrl(value)}"`);
    return trimmed;
  },
  integer(min: number, max: number, unit = '') {
    return (value: string): number => {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < min || n > max) {
        throw new BadSetting(`must be a whole number${unit} from ${min} to ${max}, got "${value}"`);
      }
      return n;
    };
  },
  program(value: string): string {
    if (!isAbsolute(value) && !/^[A-Za-z0-9._-]+$/.test(value)) {
      throw new BadSetting(`must be a program name or an absolute path, got "${value}"`);
    }
    return value;
  },
  /** `host:port` (port 0 picks one) or `off`. */
  listenAddress(value: string): { host: string; port: number } | undefined {
    if (value === 'off') return undefined;
    const address = parseListenAddress(value);
    if (!address) throw new BadSetting(`must be host:port such as 0.0.0.0:9411, or off; got "${value}"`);
    return address;
  },
  oneOf<T extends string>(choices: readonly T[]) {
    return (value: string): T => {
      if (!(choices as readonly string[]).includes(value)) throw new BadSetting(`must be one of ${choices.join(', ')}, got "${value}"`);
      return value as T;
    };
  },
};

/**
 * Turns the environment into a PluginConfig, or into one line per bad variable.
 * This is the only place that reads the environment (through main.ts).
 */
export function loadPluginConfig(env: Env): ConfigResult {
  const errors: string[] = [];
  function setting<T>(name: string, fallback: string, convert: (value: string) => T): T {
    try {
      return convert(raw(env, name) ?? fallback);
    } catch (err) {
      if (!(err instanceof BadSetting)) throw err;
      errors.push(`${name} ${err.message}`);
      return undefined as T;
    }
  }
  const seconds = (min: number, max: number) => parse.integer(min, max, ' of seconds');
  const dataDir = setting('STORAGE_DATA_DIR', '/var/lib/mosaic/volumes', parse.absolutePath);
  const resticEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && [...RESTIC_BACKEND_VARIABLES, ...RESTIC_PROCESS_VARIABLES].some((pattern) => pattern.test(name))) resticEnv[name] = value;
  }
  // NAME_FILE of a credential restic reads only from its environment: the plugin reads the file
  // and hands restic the value; the file's path itself is no business of restic's.
  for (const name of RESTIC_SECRET_VARIABLES) {
    delete resticEnv[`${name}_FILE`];
    const read = readSecretSetting(env, name);
    if (!read.ok) errors.push(`${read.variable} ${read.message}`);
    else if (read.value !== undefined) resticEnv[name] = read.value;
  }
  const devtools = readDevtoolsSettings(env, { allowCodeSetting: true });
  for (const problem of devtools.problems) errors.push(`${problem.variable} ${problem.message}`);
  if (dataDir && !resticEnv.RESTIC_CACHE_DIR) resticEnv.RESTIC_CACHE_DIR = join(dataDir, 'restic-cache');
  // restic reads `backup --time` in its local time zone; the plugin gives it UTC.
  resticEnv.TZ = 'UTC';

  const config: PluginConfig = {
    driver: setting('STORAGE_DRIVER', 'mosaic', parse.driverName),
    pluginDir: setting('DOCKER_PLUGIN_DIR', '/run/docker/plugins', parse.absolutePath),
    controlSocket: setting('STORAGE_PLUGIN_SOCKET', '/tmp/mosaic/storage.sock', parse.socketPath),
    dataDir,
    replicaUrl: setting('REPLICA_URL', '/var/lib/mosaic/replicas', parse.replicaUrl),
    replicationIntervalS: setting('REPLICATION_INTERVAL_S', '300', seconds(1, 604800)),
    retentionKeepLast: setting('RETENTION_KEEP_LAST', '24', parse.integer(1, 100000)),
    retentionKeepDaily: setting('RETENTION_KEEP_DAILY', '7', parse.integer(0, 100000)),
    pruneIntervalS: setting('RETENTION_PRUNE_INTERVAL_S', '3600', seconds(0, 604800)),
    retryBaseS: setting('REPLICATION_RETRY_BASE_S', '5', seconds(1, 3600)),
    retryMaxS: setting('REPLICATION_RETRY_MAX_S', '600', seconds(1, 86400)),
    resticBinary: setting('RESTIC_BINARY', 'restic', parse.program),
    storeRetryS: setting('REPLICA_RETRY_WINDOW_S', '30', seconds(1, 3600)),
    resticStallTimeoutS: setting('RESTIC_STALL_TIMEOUT_S', '300', seconds(1, 86400)),
    resticEnv,
    logLevel: setting('LOG_LEVEL', 'log', parse.oneOf(['error', 'warn', 'log', 'debug', 'verbose'] as const)),
    logFormat: setting('LOG_FORMAT', 'text', parse.oneOf(['text', 'json'] as const)),
    metricsAddress: setting('STORAGE_METRICS_ADDRESS', 'off', parse.listenAddress),
    devtools: devtools.settings.enabled,
    devtoolsServer: devtools.settings.enabled && devtools.settings.allowCode ? devtools.settings.address : undefined,
  };
  if (config.driver && config.pluginDir && Buffer.byteLength(join(config.pluginDir, `${config.driver}.sock`)) > 107) {
    errors.push('DOCKER_PLUGIN_DIR is too long: the plugin socket path would exceed 107 bytes');
  }
  if (errors.length === 0 && config.retryBaseS > config.retryMaxS) {
    errors.push(`REPLICATION_RETRY_BASE_S must not exceed REPLICATION_RETRY_MAX_S (${config.retryMaxS})`);
  }
  return errors.length ? { ok: false, errors } : { ok: true, config };
}
