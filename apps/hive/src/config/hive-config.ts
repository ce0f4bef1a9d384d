import type { ListenAddress, LogFormat } from '@mosaic/ops';
import { REPOSITORY_DEVICE_VERSION } from '../common/hive-version';

/** Every setting of the Hive, validated once at boot (see load-hive-config.ts). */
export interface HiveConfig {
  /** Bearer token of the REST API (HIVE_ADMIN_TOKEN). */
  adminToken: string;
  /** 0 asks the system for any free port. */
  port: number;
  host: string;
  /** The SQLite file (HIVE_DB): a file path, or `:memory:` for a Hive that forgets everything when it stops. Unused with `databaseUrl`. */
  dbPath: string;
  /**
   * PostgreSQL instead of SQLite (HIVE_DATABASE_URL or HIVE_DATABASE_URL_FILE), e.g.
   * postgres://hive:secret@db:5432/hive; a secret: never logged, never echoed in an error.
   */
  databaseUrl?: string;
  /** How long a REST caller waits for a command's acknowledgement and result by default. */
  commandTimeoutS: number;
  /** The app catalog: one folder per app with app.json and compose.yaml (HIVE_CATALOG_DIR). */
  catalogDir: string;
  /**
   * The current Device version (HIVE_DEVICE_VERSION): a device that reports an older one in
   * report.version is sent UpgradeCommand.run. Defaults to this repository's version, the one
   * its Device reports.
   */
  deviceVersion: string;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** LOG_FORMAT=json: one JSON object per line. */
  logFormat: LogFormat;
  /** DEVTOOLS: Nest records its module graph and starts its devtools server on `devtoolsServer`. */
  devtools: boolean;
  /** DEVTOOLS_ADDRESS (loopback only), present when `devtools` is on. */
  devtoolsServer?: ListenAddress;
  /**
   * The Hive's URL as devices and browsers reach it (HIVE_PUBLIC_URL), e.g. https://hive.example.net:
   * the HIVE_URL of the `docker run` command the Console shows, and https here makes the session
   * cookie Secure. null: the Console uses the address its page was loaded from.
   */
  publicUrl: string | null;
  /** The built Console (HIVE_CONSOLE_DIR): index.html and its assets, served at `/`. */
  consoleDir: string;
  /**
   * The image devices upgrade to (HIVE_DEVICE_IMAGE), named in UpgradeCommand.run with
   * `deviceVersion`; unset, each device takes its own repository at that version.
   */
  deviceImage?: string;
  /**
   * How long a lease on shared work (a move's runs) lasts without renewal, in ms (HIVE_LEASE_TTL_S,
   * in seconds; 15 s when unset): with several Hive processes, the work of one that died goes on
   * elsewhere after this. Renewed every third of it.
   */
  leaseTtlMs?: number;
}

export const HIVE_CONFIG = Symbol('HIVE_CONFIG');

/** Fixed defaults; the catalog's and the Console's depend on where the Hive runs from (default-catalog-dir.ts). */
export const HIVE_CONFIG_DEFAULTS: Omit<HiveConfig, 'adminToken' | 'catalogDir' | 'consoleDir'> = {
  port: 8080,
  host: '127.0.0.1',
  dbPath: '/var/lib/mosaic/hive/hive.db',
  commandTimeoutS: 30,
  deviceVersion: REPOSITORY_DEVICE_VERSION,
  logLevel: 'log',
  logFormat: 'text',
  devtools: false,
  publicUrl: null,
};

/** What code that builds a Hive in-process must give; everything else has a default. */
export type HiveOptions = Partial<HiveConfig> & Pick<HiveConfig, 'adminToken'>;

export const ADMIN_TOKEN_MIN_CHARS = 16;
export const COMMAND_TIMEOUT_MAX_S = 600;
/** Lease TTL bounds: HIVE_LEASE_TTL_S takes 3..600 s; in-process options (tests) may go down to 100 ms. */
export const LEASE_TTL_MIN_MS = 100;
export const LEASE_TTL_MAX_S = 600;
