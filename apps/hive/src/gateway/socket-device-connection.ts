import type { Socket } from 'socket.io';
import { DeviceConnection } from '../sessions/device-connection';

/** The thin adapter from a socket.io socket to a DeviceConnection: no logic beyond translating calls. */
export class SocketDeviceConnection implements DeviceConnection {
  constructor(
    private readonly socket: Socket,
    readonly deviceId: string,
    /** The device's semver from its handshake. */
    readonly version: string,
  ) {}

  get connectionId(): string {
    return this.socket.id;
  }

  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return this.socket.timeout(timeoutMs).emitWithAck(event, payload);
  }

  disconnect(): void {
    this.socket.disconnect(true);
  }
}
