import { LIMITS, Patterns, isSemver } from '@mosaic/protocol';
import { LOG_FORMATS, LOG_LEVELS, readDevtoolsSettings, readSecretSetting } from '@mosaic/ops';
import { databaseUrlProblems } from '../database/database-url';
import { defaultCatalogDir, defaultConsoleDir } from './default-catalog-dir';
import { ADMIN_TOKEN_MIN_CHARS, COMMAND_TIMEOUT_MAX_S, HIVE_CONFIG_DEFAULTS, HiveConfig, HiveOptions, LEASE_TTL_MAX_S, LEASE_TTL_MIN_MS } from './hive-config';

export type Env = Record<string, string | undefined>;
export type HiveConfigResult = { ok: true; config: HiveConfig } | { ok: false; errors: string[] };

/** The environment variable behind each setting: problems are reported under these names. */
const VARIABLE: Record<Exclude<keyof HiveConfig, 'devtools' | 'devtoolsServer'>, string> = {
  adminToken: 'HIVE_ADMIN_TOKEN',
  port: 'HIVE_PORT',
  host: 'HIVE_HOST',
  dbPath: 'HIVE_DB',
  databaseUrl: 'HIVE_DATABASE_URL',
  commandTimeoutS: 'HIVE_COMMAND_TIMEOUT_S',
  catalogDir: 'HIVE_CATALOG_DIR',
  deviceVersion: 'HIVE_DEVICE_VERSION',
  logLevel: 'LOG_LEVEL',
  logFormat: 'LOG_FORMAT',
  publicUrl: 'HIVE_PUBLIC_URL',
  consoleDir: 'HIVE_CONSOLE_DIR',
  deviceImage: 'HIVE_DEVICE_IMAGE',
  leaseTtlMs: 'HIVE_LEASE_TTL_S',
};
type Variable = keyof typeof VARIABLE;

/** An origin only: http(s)://host[:port], no path, query or credentials (it becomes a device's HIVE_URL). */
const ORIGIN = /^https?:\/\/(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** Unset and empty both mean "use the default". */
function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** A whole number written in decimal digits only: "8e3", " 80" and "0x50" are refused. */
function wholeNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
}

/** HIVE_LEASE_TTL_S in ms; below 3 s is refused from the environment (tests give shorter ones as options). */
function leaseTtlFromSeconds(value: string): number {
  const seconds = wholeNumber(value);
  return seconds === undefined || Number.isNaN(seconds) || seconds < 3 ? Number.NaN : seconds * 1000;
}

/** One line per bad setting, each naming its variable. The admin token is never echoed. */
export function hiveConfigProblems(config: HiveConfig, given: Partial<Record<Variable, string>> = {}): string[] {
  const problems: string[] = [];
  const bad = (key: Variable, why: string) => problems.push(`${VARIABLE[key]}: ${why}`);
  const got = (key: Variable) => (given[key] !== undefined ? `, got "${given[key]}"` : `, got ${String(config[key])}`);

  if (typeof config.adminToken !== 'string' || config.adminToken.length === 0) {
    bad('adminToken', `is required (at least ${ADMIN_TOKEN_MIN_CHARS} characters)`);
  } else if (config.adminToken.length < ADMIN_TOKEN_MIN_CHARS) {
    bad('adminToken', `must be at least ${ADMIN_TOKEN_MIN_CHARS} characters (has ${config.adminToken.length})`);
  } else if (!/^[\x21-\x7e]+$/.test(config.adminToken)) {
    bad('adminToken', 'must be printable ASCII without spaces');
  }
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    bad('port', `must be a whole number from 0 to 65535 (0: any free port)${got('port')}`);
  }
  if (typeof config.host !== 'string' || !/^[A-Za-z0-9.:_-]{1,253}$/.test(config.host)) {
    bad('host', `must be a host name or an IP address${got('host')}`);
  }
  if (typeof config.dbPath !== 'string' || config.dbPath.length === 0 || config.dbPath.includes('\0')) {
    bad('dbPath', 'must be a file path or :memory:');
  }
  if (config.databaseUrl !== undefined) {
    // Never echoed: the URL may hold the password.
    const urlProblems = typeof config.databaseUrl === 'string' ? databaseUrlProblems(config.databaseUrl) : ['must be a postgres:// URL'];
    for (const problem of urlProblems) bad('databaseUrl', problem);
  }
  if (!Number.isInteger(config.commandTimeoutS) || config.commandTimeoutS < 1 || config.commandTimeoutS > COMMAND_TIMEOUT_MAX_S) {
    bad('commandTimeoutS', `must be a whole number of seconds from 1 to ${COMMAND_TIMEOUT_MAX_S}${got('commandTimeoutS')}`);
  }
  const ttl = config.leaseTtlMs;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < LEASE_TTL_MIN_MS || ttl > LEASE_TTL_MAX_S * 1000)) {
    bad('leaseTtlMs', `must be a whole number of seconds from 3 to ${LEASE_TTL_MAX_S}${given.leaseTtlMs !== undefined ? `, got "${given.leaseTtlMs}"` : ''}`);
  }
  // Only the path is checked here; the catalog itself is read and checked when the Hive boots.
  if (typeof config.catalogDir !== 'string' || config.catalogDir.length === 0 || config.catalogDir.includes('\0')) {
    bad('catalogDir', 'must be a folder path');
  }
  if (config.publicUrl !== null && (typeof config.publicUrl !== 'string' || !ORIGIN.test(config.publicUrl))) {
    bad('publicUrl', `must be an origin such as https://hive.example.net or http://127.0.0.1:8080, without a path${got('publicUrl')}`);
  }
  if (typeof config.consoleDir !== 'string' || config.consoleDir.length === 0 || config.consoleDir.includes('\0')) {
    bad('consoleDir', 'must be a folder path');
  }
  if (typeof config.deviceVersion !== 'string' || !isSemver(config.deviceVersion)) {
    bad('deviceVersion', `must be a semantic version such as 1.4.2 or 2.0.0-rc.1${got('deviceVersion')}`);
  }
  if (!(LOG_LEVELS as readonly string[]).includes(config.logLevel)) bad('logLevel', `must be one of ${LOG_LEVELS.join(', ')}${got('logLevel')}`);
  if (!(LOG_FORMATS as readonly string[]).includes(config.logFormat)) bad('logFormat', `must be one of ${LOG_FORMATS.join(', ')}${got('logFormat')}`);
  const image = config.deviceImage;
  if (image !== undefined && (typeof image !== 'string' || image.length > LIMITS.imageChars || !Patterns.imageRef.test(image))) {
    bad('deviceImage', `must be an image reference such as ghcr.io/me/mosaic-device:1.2.0${got('deviceImage')}`);
  }
  return problems;
}

/** The only reader of process.env: turns it into a checked HiveConfig or the list of what is wrong. */
export function loadHiveConfig(env: Env): HiveConfigResult {
  const token = readSecretSetting(env, VARIABLE.adminToken);
  const devtools = readDevtoolsSettings(env, { allowCodeSetting: false });
  const databaseUrl = readSecretSetting(env, VARIABLE.databaseUrl);
  const given = {
    adminToken: token.ok ? token.value : undefined,
    port: raw(env, VARIABLE.port),
    host: raw(env, VARIABLE.host),
    dbPath: raw(env, VARIABLE.dbPath),
    commandTimeoutS: raw(env, VARIABLE.commandTimeoutS),
    catalogDir: raw(env, VARIABLE.catalogDir),
    deviceVersion: raw(env, VARIABLE.deviceVersion),
    logLevel: raw(env, VARIABLE.logLevel),
    logFormat: raw(env, VARIABLE.logFormat),
    publicUrl: raw(env, VARIABLE.publicUrl),
    consoleDir: raw(env, VARIABLE.consoleDir),
    deviceImage: raw(env, VARIABLE.deviceImage),
    leaseTtlMs: raw(env, VARIABLE.leaseTtlMs),
  };
  const config: HiveConfig = {
    adminToken: given.adminToken ?? '',
    port: wholeNumber(given.port) ?? HIVE_CONFIG_DEFAULTS.port,
    host: given.host ?? HIVE_CONFIG_DEFAULTS.host,
    dbPath: given.dbPath ?? HIVE_CONFIG_DEFAULTS.dbPath,
    commandTimeoutS: wholeNumber(given.commandTimeoutS) ?? HIVE_CONFIG_DEFAULTS.commandTimeoutS,
    catalogDir: given.catalogDir ?? defaultCatalogDir(),
    deviceVersion: given.deviceVersion ?? HIVE_CONFIG_DEFAULTS.deviceVersion,
    logLevel: (given.logLevel ?? HIVE_CONFIG_DEFAULTS.logLevel) as HiveConfig['logLevel'],
    logFormat: (given.logFormat ?? HIVE_CONFIG_DEFAULTS.logFormat) as HiveConfig['logFormat'],
    devtools: devtools.settings.enabled,
    // A trailing slash is what people paste; the origin is the same without it.
    publicUrl: given.publicUrl?.replace(/\/$/, '') ?? HIVE_CONFIG_DEFAULTS.publicUrl,
    consoleDir: given.consoleDir ?? defaultConsoleDir(),
    ...(given.deviceImage !== undefined ? { deviceImage: given.deviceImage } : {}),
    ...(given.leaseTtlMs !== undefined ? { leaseTtlMs: leaseTtlFromSeconds(given.leaseTtlMs) } : {}),
    ...(databaseUrl.ok && databaseUrl.value !== undefined ? { databaseUrl: databaseUrl.value } : {}),
  };
  if (devtools.settings.enabled) config.devtoolsServer = devtools.settings.address;
  const { adminToken: _secret, ...echoable } = given;
  const problems = hiveConfigProblems(config, echoable);
  const errors = [
    // A token that could not be read is reported as that, not as a missing token.
    ...(token.ok ? problems : [`${token.variable}: ${token.message}`, ...problems.filter((p) => !p.startsWith(`${VARIABLE.adminToken}:`))]),
    ...devtools.problems.map((p) => `${p.variable}: ${p.message}`),
    ...(databaseUrl.ok ? [] : [`${databaseUrl.variable}: ${databaseUrl.message}`]),
  ];
  return errors.length ? { ok: false, errors } : { ok: true, config };
}

/** For code that builds a Hive in-process: fills in the defaults and refuses what env would refuse. */
export function resolveHiveConfig(options: HiveOptions): HiveConfig {
  const config: HiveConfig = {
    ...HIVE_CONFIG_DEFAULTS,
    catalogDir: options.catalogDir ?? defaultCatalogDir(),
    consoleDir: options.consoleDir ?? defaultConsoleDir(),
    ...options,
  };
  const errors = hiveConfigProblems(config);
  if (errors.length) throw new Error(`Invalid Hive configuration: ${errors.join('; ')}`);
  return config;
}
