import { Injectable } from '@nestjs/common';
import { StateDirStatus, StateStore } from '../common/state-store';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { HiveConnectionService } from '../hive/hive-connection.service';
import { StorageService } from '../storage/storage.service';

/** How long a probe or a scrape waits for the engine; the image's HEALTHCHECK allows 5 s in all. */
const ENGINE_STATUS_TIMEOUT_MS = 2000;

export type EngineStatus = { reachable: true; version: string } | { reachable: false; error: string };

export interface DeviceHealth {
  status: 'ok' | 'unhealthy';
  hive: { connected: boolean; authenticated: boolean };
  storagePlugin: { reachable: boolean; version?: string; error?: string };
  engine: EngineStatus;
  stateDir: StateDirStatus;
}

/** Healthy = linked to Hive, handshake accepted, the storage plugin and the engine answer, STATE_DIR takes writes. */
@Injectable()
export class DeviceHealthService {
  constructor(
    private readonly hive: HiveConnectionService,
    private readonly storage: StorageService,
    private readonly engine: DockerEngineAdapter,
    private readonly state: StateStore,
  ) {}

  async check(): Promise<DeviceHealth> {
    const [plugin, engine] = await Promise.all([this.storage.status(), this.engineStatus()]);
    const hive = { connected: this.hive.connected, authenticated: this.hive.authenticated };
    const stateDir = this.state.status();
    const healthy = hive.connected && hive.authenticated && plugin.reachable && engine.reachable && stateDir.writable;
    return {
      status: healthy ? 'ok' : 'unhealthy',
      hive,
      storagePlugin: plugin.reachable ? { reachable: true, version: plugin.version } : { reachable: false, error: plugin.error },
      engine,
      stateDir,
    };
  }

  /** Whether the engine answers within ENGINE_STATUS_TIMEOUT_MS; never throws. */
  async engineStatus(): Promise<EngineStatus> {
    try {
      return { reachable: true, version: (await this.engine.version(ENGINE_STATUS_TIMEOUT_MS)).version };
    } catch (err) {
      return { reachable: false, error: (err as Error).message };
    }
  }
}
