import { Injectable } from '@nestjs/common';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { StorageService } from '../storage/storage.service';

export interface DeviceHealth {
  status: 'ok' | 'unhealthy';
  hive: { connected: boolean; authenticated: boolean };
  storagePlugin: { reachable: boolean; version?: string; error?: string };
}

/** Healthy = linked to Hive, handshake accepted, and the storage plugin answers. */
@Injectable()
export class DeviceHealthService {
  constructor(
    private readonly hive: HiveConnectionService,
    private readonly storage: StorageService,
  ) {}

  async check(): Promise<DeviceHealth> {
    const plugin = await this.storage.status();
    const hive = { connected: this.hive.connected, authenticated: this.hive.authenticated };
    const healthy = hive.connected && hive.authenticated && plugin.reachable;
    return {
      status: healthy ? 'ok' : 'unhealthy',
      hive,
      storagePlugin: plugin.reachable ? { reachable: true, version: plugin.version } : { reachable: false, error: plugin.error },
    };
  }
}
