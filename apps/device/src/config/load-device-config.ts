import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { readDevtoolsSettings, parseListenAddress, readSecretSetting } from '@mosaic/ops';
import { KEYS_LIST_MAX, STORAGE_PLUGIN_SETTINGS, isResticBackendVariable } from '@mosaic/protocol';
import { DeviceConfig, PolicyExemption } from './device-config';
import { Secret } from './secret';

export type Env = Record<string, string | undefined>;
export type ConfigResult = { ok: true; config: DeviceConfig } | { ok: false; errors: string[] };

class BadSetting extends Error {}

/**
 * The Watchtower release `UPDATER=watchtower` starts unless UPDATER_IMAGE names another: the
 * maintained fork's newest release whose tag we could check against its source (goreleaser tags
 * images with the bare version, no `v`). Its flags (`--run-once --cleanup <names>`) are the ones
 * that release documents; Mosaic's own updater stays the tested default.
 */
export const WATCHTOWER_IMAGE = 'nickfedor/watchtower:1.21.0';

const EXEMPTION = /^([a-z0-9][a-z0-9-]{0,62})@sha256:([0-9a-f]{64})$/;
/** A problem of NAME_FILE rather than of NAME. */
class SecretFileError extends BadSetting {}

/** Reads one variable; `undefined` means "not set" (empty counts as not set). */
function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

const parse = {
  required(value: string | undefined): string {
    if (value === undefined) throw new BadSetting('is required');
    return value;
  },
  url(value: string): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new BadSetting(`must be an http(s) URL, got "${value}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new BadSetting(`must be an http(s) URL, got "${value}"`);
    }
    return value.replace(/\/+$/, '');
  },
  /** An http(s) URL; plain http only to this machine's loopback unless `allowInsecure`. */
  hiveUrl(allowInsecure: boolean) {
    return (value: string): string => {
      const url = parse.url(value);
      const { protocol, hostname } = new URL(url);
      if (protocol === 'http:' && !allowInsecure && !isLoopback(hostname)) {
        throw new BadSetting(
          `is plain http to a Hive that is not on this machine ("${value}"): the device token and the passphrase proof would cross the network unencrypted; use https, or set HIVE_ALLOW_INSECURE=true`,
        );
      }
      return url;
    };
  },
  absolutePath(value: string): string {
    if (!isAbsolute(value)) throw new BadSetting(`must be an absolute path, got "${value}"`);
    return value;
  },
  boolean(value: string): boolean {
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    throw new BadSetting(`must be true or false, got "${value}"`);
  },
  seconds(min: number, max: number) {
    return (value: string): number => {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < min || n > max) {
        throw new BadSetting(`must be a whole number of seconds from ${min} to ${max}, got "${value}"`);
      }
      return n;
    };
  },
  oneOf<T extends string>(choices: readonly T[]) {
    return (value: string): T => {
      if (!(choices as readonly string[]).includes(value)) {
        throw new BadSetting(`must be one of ${choices.join(', ')}, got "${value}"`);
      }
      return value as T;
    };
  },
  dockerHost(value: string): string {
    if (!/^(unix:\/\/\/.+|tcp:\/\/[^/\s]+:\d+)$/.test(value)) {
      throw new BadSetting(`must be unix:///path or tcp://host:port, got "${value}"`);
    }
    return value;
  },
  driverName(value: string): string {
    if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(value)) throw new BadSetting(`must be a plain driver name, got "${value}"`);
    return value;
  },
  imageRef(value: string): string {
    if (!/^[a-z0-9][a-z0-9._\/:@-]{0,254}$/.test(value)) throw new BadSetting(`must be an image reference such as nickfedor/watchtower:latest, got "${value}"`);
    return value;
  },
  containerRef(value: string): string {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(value)) throw new BadSetting(`must be a container name or id, got "${value}"`);
    return value;
  },
  wholeNumber(min: number, max: number) {
    return (value: string): number => {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < min || n > max) throw new BadSetting(`must be a whole number from ${min} to ${max}, got "${value}"`);
      return n;
    };
  },
  /** `host:port` (IPv4 or a name; port 0 picks a free one) or `off`. */
  listenAddress(value: string): { host: string; port: number } | undefined {
    if (value === 'off') return undefined;
    const address = parseListenAddress(value);
    if (!address) throw new BadSetting(`must be host:port such as 127.0.0.1:9410, or off; got "${value}"`);
    return address;
  },
  list(item: RegExp, what: string) {
    return (value: string): string[] => {
      const items = value.split(',').map((v) => v.trim()).filter(Boolean);
      const bad = items.filter((v) => !item.test(v));
      if (bad.length) throw new BadSetting(`must be a comma-separated list of ${what}; bad: ${bad.join(', ')}`);
      return items;
    };
  },
  /**
   * `name@sha256:<hex>` entries: the application and the SHA-256 of the compose template the
   * operator approved. A name alone would trust whatever template the Hive sends under it.
   */
  exemptions(value: string): PolicyExemption[] {
    const items = value.split(',').map((v) => v.trim()).filter(Boolean);
    const named = items.filter((v) => /^[a-z0-9][a-z0-9-]{0,62}$/.test(v));
    if (named.length) {
      throw new BadSetting(
        `names an app without the template approved for it (${named.join(', ')}); write name@sha256:<SHA-256 of the compose template, as sha256sum prints it>`,
      );
    }
    const bad = items.filter((v) => !EXEMPTION.test(v));
    if (bad.length) throw new BadSetting(`must be a comma-separated list of name@sha256:<64 hex digits>; bad: ${bad.join(', ')}`);
    return items.map((v) => {
      const [, name, sha256] = EXEMPTION.exec(v) as RegExpExecArray;
      return { name, sha256 };
    });
  },
  printable(max: number) {
    return (value: string): string => {
      if (value.length > max || !/^[\x20-\x7e]+$/.test(value)) {
        throw new BadSetting(`must be at most ${max} printable ASCII characters`);
      }
      return value;
    };
  },
};

/** A URL's host (as `URL` normalises it: lower case, IPv4 in dotted form, IPv6 in brackets) that is this machine's loopback. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || (isIPv4(hostname) && hostname.startsWith('127.'));
}

/**
 * A secret given directly (NAME) or in a file (NAME_FILE, one trailing newline dropped): a file
 * keeps it out of the process environment and `docker inspect`. `check` validates the value.
 */
function readSecret(env: Env, name: string, check: (value: string) => string): Secret {
  const read = readSecretSetting(env, name);
  if (!read.ok) throw read.variable === name ? new BadSetting(read.message) : new SecretFileError(read.message);
  if (read.value === undefined) throw new BadSetting(`is required (or ${name}_FILE)`);
  return new Secret(check(read.value));
}

/** What the device hands on to a plugin container it installs: the plugin's settings and restic's variables. */
function pluginEnvironment(env: Env): Record<string, string> {
  const handed: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if ((STORAGE_PLUGIN_SETTINGS as readonly string[]).includes(name) || isResticBackendVariable(name)) handed[name] = value;
  }
  return handed;
}

/**
 * Turns the environment into a DeviceConfig, or into one line per bad variable.
 * This is the only place that reads process.env (through main.ts).
 */
export function loadDeviceConfig(env: Env): ConfigResult {
  const errors: string[] = [];
  function setting<T>(name: string, fallback: string | undefined, convert: (value: string) => T): T {
    try {
      const value = raw(env, name) ?? fallback;
      return convert(parse.required(value));
    } catch (err) {
      if (!(err instanceof BadSetting)) throw err;
      errors.push(`${name} ${err.message}`);
      return undefined as T;
    }
  }
  function secret(name: string, check: (value: string) => string): Secret {
    try {
      return readSecret(env, name, check);
    } catch (err) {
      if (!(err instanceof BadSetting)) throw err;
      errors.push(`${err instanceof SecretFileError ? `${name}_FILE` : name} ${err.message}`);
      return undefined as unknown as Secret;
    }
  }
  const passphrase = secret('DEVICE_PASSPHRASE', (v) => {
    if (v.length < 8) throw new BadSetting('must be at least 8 characters');
    return v;
  });
  const deviceToken = secret('DEVICE_TOKEN', parse.printable(512));

  const devtools = readDevtoolsSettings(env, { allowCodeSetting: true });
  for (const problem of devtools.problems) errors.push(`${problem.variable} ${problem.message}`);

  const seconds = parse.seconds;
  const hiveAllowInsecure = setting('HIVE_ALLOW_INSECURE', 'false', parse.boolean);
  const config: DeviceConfig = {
    hiveUrl: setting('HIVE_URL', undefined, parse.hiveUrl(hiveAllowInsecure === true)),
    hiveAllowInsecure,
    deviceToken,
    passphrase,
    deviceName: setting('DEVICE_NAME', hostname(), parse.printable(128)),
    appsDir: setting('APPS_DIR', '/apps', parse.absolutePath),
    stateDir: setting('STATE_DIR', '/var/lib/mosaic/device', parse.absolutePath),
    volumesDir: setting('VOLUMES_DIR', '/var/lib/mosaic/volumes', parse.absolutePath),
    dockerHost: setting('DOCKER_HOST', 'unix:///var/run/docker.sock', parse.dockerHost),
    dockerCli: setting('DOCKER_CLI', 'docker', (v) => v),
    engineTimeoutS: setting('ENGINE_TIMEOUT_S', '30', seconds(1, 600)),
    storageDriver: setting('STORAGE_DRIVER', 'mosaic', parse.driverName),
    storagePluginSocket: setting('STORAGE_PLUGIN_SOCKET', '/tmp/mosaic/storage.sock', parse.absolutePath),
    storagePluginMode: setting('STORAGE_PLUGIN_MODE', 'external', parse.oneOf(['external', 'container'] as const)),
    pluginContainer: {
      image: raw(env, 'STORAGE_PLUGIN_IMAGE') === undefined ? undefined : setting('STORAGE_PLUGIN_IMAGE', undefined, parse.imageRef),
      name: setting('STORAGE_PLUGIN_CONTAINER', 'mosaic-storage-plugin', parse.containerRef),
      env: pluginEnvironment(env),
    },
    storagePluginWaitS: setting('STORAGE_PLUGIN_WAIT_S', '60', seconds(1, 3600)),
    autoUpdate: setting('AUTO_UPDATE', 'false', parse.boolean),
    updater: setting('UPDATER', 'mosaic', parse.oneOf(['mosaic', 'watchtower'] as const)),
    // Pinned: a Watchtower release that changes behaviour must not arrive by itself.
    updaterImage: setting('UPDATER_IMAGE', WATCHTOWER_IMAGE, parse.imageRef),
    upgradeTimeoutS: setting('UPGRADE_TIMEOUT_S', '600', seconds(30, 3600)),
    upgradeMinFreeMb: setting('UPGRADE_MIN_FREE_MB', '1024', parse.wholeNumber(0, 1_048_576)),
    deviceContainer: raw(env, 'DEVICE_CONTAINER') === undefined ? undefined : setting('DEVICE_CONTAINER', undefined, parse.containerRef),
    commandMaxAgeS: setting('COMMAND_MAX_AGE_S', '300', seconds(1, 86400)),
    reportAppsIntervalS: setting('REPORT_APPS_INTERVAL_S', '30', seconds(1, 86400)),
    reportVolumesIntervalS: setting('REPORT_VOLUMES_INTERVAL_S', '60', seconds(1, 86400)),
    reportVersionIntervalS: setting('REPORT_VERSION_INTERVAL_S', '3600', seconds(1, 604800)),
    hiveAckTimeoutS: setting('HIVE_ACK_TIMEOUT_S', '10', seconds(1, 600)),
    keysAhead: setting('KEYS_AHEAD', '100', parse.wholeNumber(0, KEYS_LIST_MAX)),
    logLevel: setting('LOG_LEVEL', 'log', parse.oneOf(['error', 'warn', 'log', 'debug', 'verbose'] as const)),
    logFormat: setting('LOG_FORMAT', 'text', parse.oneOf(['text', 'json'] as const)),
    monitor: setting('MONITOR_ADDRESS', '127.0.0.1:9410', parse.listenAddress),
    devtools: devtools.settings.enabled,
    devtoolsServer: devtools.settings.enabled && devtools.settings.allowCode ? devtools.settings.address : undefined,
    argon2: { passes: 3, parallelism: 4, memoryExponent: 16 },
    allowPrivilegedApps: setting('ALLOW_PRIVILEGED_APPS', ',', parse.exemptions),
    allowedCaps: setting('ALLOWED_CAPS', 'NET_ADMIN,NET_BIND_SERVICE', parse.list(/^[A-Z][A-Z0-9_]{1,31}$/, 'capability names such as NET_ADMIN')),
  };
  return errors.length ? { ok: false, errors } : { ok: true, config };
}
