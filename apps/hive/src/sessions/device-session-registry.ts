import { Injectable, Logger } from '@nestjs/common';
import { ChangeFeed } from '../changes/change-feed';
import { DeviceConnection } from './device-connection';

export interface SessionStatus {
  /** A connection whose token Hive accepted is open. */
  online: boolean;
  /** That connection has also proved the passphrase, so it may receive commands. */
  authenticated: boolean;
}

/**
 * Who is connected right now: every open connection per device, and the one that proved the
 * passphrase last. A newer proof replaces (disconnects) the older connection, so a device is
 * never reached twice. It lives in memory: after a restart devices simply connect again.
 */
@Injectable()
export class DeviceSessionRegistry {
  private readonly logger = new Logger('Sessions');
  private readonly openByDevice = new Map<string, Set<DeviceConnection>>();
  private readonly authenticatedByDevice = new Map<string, DeviceConnection>();
  private readonly authenticatedListeners = new Set<(deviceId: string) => void>();

  constructor(private readonly changes: ChangeFeed = new ChangeFeed()) {}

  add(connection: DeviceConnection): void {
    const open = this.openByDevice.get(connection.deviceId) ?? new Set<DeviceConnection>();
    open.add(connection);
    this.openByDevice.set(connection.deviceId, open);
    this.changes.publish('devices', connection.deviceId);
  }

  /** Marks the connection as the device's authenticated one and disconnects the one it replaces. */
  authenticate(connection: DeviceConnection): void {
    if (!this.openByDevice.get(connection.deviceId)?.has(connection)) return;
    const previous = this.authenticatedByDevice.get(connection.deviceId);
    this.authenticatedByDevice.set(connection.deviceId, connection);
    if (previous && previous !== connection) {
      this.logger.log(`device ${connection.deviceId} authenticated again; closing its older connection`);
      this.remove(previous);
      previous.disconnect();
    }
    this.changes.publish('devices', connection.deviceId);
    for (const listener of [...this.authenticatedListeners]) {
      try {
        listener(connection.deviceId);
      } catch (err) {
        this.logger.error(`a listener of authenticated devices failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  /**
   * Calls `listener` each time a device proves the passphrase (so work waiting for it can go on).
   * It runs before the proof is acknowledged: defer anything that sends to the device. Returns
   * the function that stops listening.
   */
  onAuthenticated(listener: (deviceId: string) => void): () => void {
    this.authenticatedListeners.add(listener);
    return () => this.authenticatedListeners.delete(listener);
  }

  remove(connection: DeviceConnection): void {
    const open = this.openByDevice.get(connection.deviceId);
    open?.delete(connection);
    if (open?.size === 0) this.openByDevice.delete(connection.deviceId);
    if (this.authenticatedByDevice.get(connection.deviceId) === connection) {
      this.authenticatedByDevice.delete(connection.deviceId);
    }
    this.changes.publish('devices', connection.deviceId);
  }

  isAuthenticated(connection: DeviceConnection): boolean {
    return this.authenticatedByDevice.get(connection.deviceId) === connection;
  }

  /** The connection commands go to, if the device has one. */
  authenticatedConnection(deviceId: string): DeviceConnection | undefined {
    return this.authenticatedByDevice.get(deviceId);
  }

  status(deviceId: string): SessionStatus {
    return { online: this.openByDevice.has(deviceId), authenticated: this.authenticatedByDevice.has(deviceId) };
  }

  /** The devices with an open connection, and how many of them proved the passphrase (for the metrics). */
  census(): { online: string[]; authenticated: number } {
    return { online: [...this.openByDevice.keys()], authenticated: this.authenticatedByDevice.size };
  }

  /** Closes every connection of one device (it was revoked). */
  disconnectDevice(deviceId: string): void {
    for (const connection of [...(this.openByDevice.get(deviceId) ?? [])]) {
      this.remove(connection);
      connection.disconnect();
    }
  }

  disconnectAll(): void {
    for (const deviceId of [...this.openByDevice.keys()]) this.disconnectDevice(deviceId);
  }
}
