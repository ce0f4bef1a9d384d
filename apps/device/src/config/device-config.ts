import { Secret } from './secret';

export type StoragePluginMode = 'external' | 'container';

/** Every setting of the Device (PROTOCOL.md §5 and the rest), validated once at boot. */
export interface DeviceConfig {
  hiveUrl: string;
  deviceToken: Secret;
  passphrase: Secret;
  deviceName: string;
  appsDir: string;
  stateDir: string;
  volumesDir: string;
  dockerHost: string;
  dockerCli: string;
  storageDriver: string;
  storagePluginSocket: string;
  storagePluginMode: StoragePluginMode;
  autoUpdate: boolean;
  commandMaxAgeS: number;
  reportAppsIntervalS: number;
  reportVolumesIntervalS: number;
  reportVersionIntervalS: number;
  hiveAckTimeoutS: number;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  logFormat: 'text' | 'json';
}

export const DEVICE_CONFIG = Symbol('DEVICE_CONFIG');
