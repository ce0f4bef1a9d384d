import { Secret } from './secret';

export type StoragePluginMode = 'external' | 'container';

/** Who carries out UpgradeCommand.run (docs/protocol.md §2.6). */
export type UpdaterKind = 'mosaic' | 'watchtower';

/** An app the policy does not check: its name and the digest of the one compose template approved for it. */
export interface PolicyExemption {
  name: string;
  sha256: string;
}

/** Every setting of the Device (docs/protocol.md §5 and the rest), validated once at boot. */
export interface DeviceConfig {
  hiveUrl: string;
  /** HIVE_ALLOW_INSECURE: plain http to a Hive that is not on loopback is allowed (else a config error). */
  hiveAllowInsecure: boolean;
  deviceToken: Secret;
  passphrase: Secret;
  deviceName: string;
  appsDir: string;
  stateDir: string;
  volumesDir: string;
  dockerHost: string;
  dockerCli: string;
  /** How long an engine API call may take (ENGINE_TIMEOUT_S); a container stop adds its grace period. */
  engineTimeoutS: number;
  storageDriver: string;
  storagePluginSocket: string;
  storagePluginMode: StoragePluginMode;
  /** STORAGE_PLUGIN_MODE=container: the plugin container the device installs and keeps running. */
  pluginContainer: {
    /** STORAGE_PLUGIN_IMAGE; unset, the image beside the device's own (StoragePluginInstaller). */
    image?: string;
    /** STORAGE_PLUGIN_CONTAINER */
    name: string;
    /** The plugin's settings and restic's backend variables from the device's environment (may hold credentials). */
    env: Record<string, string>;
  };
  /** How long a start waits for the plugin to answer before STORAGE_UNAVAILABLE. */
  storagePluginWaitS: number;
  autoUpdate: boolean;
  /** UPDATER: Mosaic's own updater (with rollback) or Watchtower. */
  updater: UpdaterKind;
  /** The Watchtower image `updater: 'watchtower'` starts (UPDATER_IMAGE). */
  updaterImage: string;
  /** How long a new version has to turn healthy and report its version before it is rolled back (UPGRADE_TIMEOUT_S). */
  upgradeTimeoutS: number;
  /** Free MiB on APPS_DIR's disk an upgrade needs (UPGRADE_MIN_FREE_MB). */
  upgradeMinFreeMb: number;
  /** The device's own container, when it cannot find it from inside (DEVICE_CONTAINER). */
  deviceContainer?: string;
  commandMaxAgeS: number;
  reportAppsIntervalS: number;
  reportVolumesIntervalS: number;
  reportVersionIntervalS: number;
  hiveAckTimeoutS: number;
  /** How many instances' keys are opened ahead of any move (KEYS_AHEAD, §3 keys.list); 0: none. */
  keysAhead: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  logFormat: 'text' | 'json';
  /** Where /health and /metrics are served (MONITOR_ADDRESS); undefined when turned off. Port 0 picks a free one. */
  monitor?: { host: string; port: number };
  /** DEVTOOLS: Nest builds the module graph snapshot, served read-only at /devtools/graph. */
  devtools: boolean;
  /**
   * Where Nest's devtools server listens (DEVTOOLS_ADDRESS, loopback): only with DEVTOOLS=true and
   * DEVTOOLS_ALLOW_CODE=true, since that server runs code sent to it.
   */
  devtoolsServer?: { host: string; port: number };
  /**
   * Argon2 S2K parameters for the private keys. Always RFC 9106's second recommendation from the
   * environment; smaller ones only when a test builds the config itself.
   */
  argon2: { passes: number; parallelism: number; memoryExponent: number };
  /** Applications exempt from the policy, each with the SHA-256 (hex) of the template the operator approved (ALLOW_PRIVILEGED_APPS). */
  allowPrivilegedApps: PolicyExemption[];
  /** Capabilities an app may add (ALLOWED_CAPS). */
  allowedCaps: string[];
}

export const DEVICE_CONFIG = Symbol('DEVICE_CONFIG');
