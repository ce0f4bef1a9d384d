import type { Namespace } from 'socket.io';
import type { DeviceConnection } from '../sessions/device-connection';
import { deviceRoom } from './cluster-bus';

/** socket.io's EVENT packet type (socket.io-parser PacketType.EVENT). */
const EVENT_PACKET = 2;

/**
 * A device whose socket another Hive process holds, reached through the device's room: the
 * adapter carries the emit to every process, the one holding the socket writes it, and the
 * device's acknowledgement comes back here, to the process that asked.
 *
 * It calls the adapter's `broadcastWithAck` itself rather than `to(room).timeout().emitWithAck()`:
 * that one waits for every process the adapter believes alive to report its client count, so a
 * process that died (until the adapter's heartbeat timeout drops it) would hold every command
 * until its deadline and then drop the acknowledgement that did come. Here the first
 * acknowledgement answers at once, and a room that no process holds fails at once.
 */
export class RoomDeviceConnection implements DeviceConnection {
  readonly connectionId: string;

  constructor(
    private readonly namespace: Namespace,
    readonly deviceId: string,
  ) {
    this.connectionId = `room:${deviceRoom(deviceId)}`;
  }

  emitWithAck(event: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const adapter = this.namespace.adapter;
    const room = deviceRoom(this.deviceId);
    return new Promise((resolve, reject) => {
      let done = false;
      let expectedServers = -1;
      let reportedServers = 0;
      let clients = 0;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        settle();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no acknowledgement from device ${this.deviceId} within ${timeoutMs} ms`))), timeoutMs);
      const nobodyHoldsIt = () => {
        if (expectedServers === reportedServers && clients === 0) {
          finish(() => reject(new Error(`no Hive process holds a connection of device ${this.deviceId}`)));
        }
      };
      adapter.broadcastWithAck(
        { type: EVENT_PACKET, data: [event, payload] },
        { rooms: new Set([room]), except: new Set(), flags: { timeout: timeoutMs } },
        (count: number) => {
          reportedServers++;
          clients += count;
          nobodyHoldsIt();
        },
        (response: unknown) => finish(() => resolve(response)),
      );
      void Promise.resolve(adapter.serverCount()).then((count) => {
        expectedServers = count;
        nobodyHoldsIt();
      });
    });
  }

  /** Closes the device's authenticated connection wherever it is. */
  disconnect(): void {
    this.namespace.in(deviceRoom(this.deviceId)).disconnectSockets(true);
  }
}
