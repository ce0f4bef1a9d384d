import { randomUUID } from 'node:crypto';
import type { Namespace, ServerOptions } from 'socket.io';
import type { DeviceConnection } from '../sessions/device-connection';

/**
 * What Hive processes of one cluster tell each other (docs/architecture.md "The Hive cluster"),
 * all over the one mechanism of the socket.io adapter (`serverSideEmit` on the device namespace).
 * Never sent to a device: a device cannot emit these (the names are not inbound events) nor hear them.
 */
export const ClusterEvents = {
  /** A process's devices changed: their connections and which one proved the passphrase. */
  presence: 'hive:presence',
  /** A process asks for the others' whole presence (it just started, or it missed a message). */
  presenceSync: 'hive:presence.sync',
  /** A process is alive, and how far its presence messages went (missed ones are asked for again). */
  beat: 'hive:beat',
  /** A process stops: its devices are gone with it. */
  bye: 'hive:bye',
  /** Close the connections of one device (revoked) or of every device (passphrase replaced), wherever they are. */
  disconnect: 'hive:disconnect',
  /** A command settled on the process that recorded it: waiting REST calls and listeners elsewhere hear it. */
  commandSettled: 'hive:command.settled',
  /** Change notices for the Console, gathered for a moment on the process where the change was made. */
  changes: 'hive:changes',
} as const;
export type ClusterEvent = (typeof ClusterEvents)[keyof typeof ClusterEvents];

/** Every message names the process that sent it. */
export interface ClusterEnvelope {
  from: string;
}

export type ClusterMessage = Record<string, unknown> & ClusterEnvelope;
export type ClusterHandler = (message: ClusterMessage) => void;

/** The room a device's authenticated connection joins: commands go to it, wherever the socket is. */
export function deviceRoom(deviceId: string): string {
  return `device:${deviceId}`;
}

/**
 * The seam between Hive processes. `LocalClusterBus` (SQLite: one process) sends nothing;
 * `PostgresClusterBus` (HIVE_DATABASE_URL) carries messages and commands between processes.
 * Handlers hear the other processes only, never their own process's messages.
 */
export abstract class ClusterBus {
  /** This process, among those of the cluster: new at each start. */
  readonly processId: string = randomUUID();
  /** False on one process alone: nothing is sent, no remote state is kept. */
  abstract readonly clustered: boolean;
  private readonly handlers = new Map<string, Set<ClusterHandler>>();

  /** The device namespace, once its gateway is up; messages flow from then on. */
  abstract attach(namespace: Namespace): void;

  /** Sends `message` to every other process (fire and forget; a lost message is made good by the receivers' checks). */
  abstract publish(event: ClusterEvent, message: Record<string, unknown>): void;

  /** A connection to a device held by another process: its emits go through the device's room. */
  abstract remoteConnection(deviceId: string): DeviceConnection;

  /** The socket.io adapter joining this process's server to the others', or undefined (socket.io's own, in memory). */
  abstract socketIoAdapter(): ServerOptions['adapter'] | undefined;

  /** Listens to `event` from the other processes; returns the function that stops listening. */
  subscribe(event: ClusterEvent, handler: ClusterHandler): () => void {
    const handlers = this.handlers.get(event) ?? new Set<ClusterHandler>();
    handlers.add(handler);
    this.handlers.set(event, handlers);
    return () => handlers.delete(handler);
  }

  /** Hands a received message to the event's handlers; a message not shaped as one is dropped. */
  protected deliver(event: ClusterEvent, message: unknown, onError: (err: unknown) => void): void {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return;
    const from = (message as { from?: unknown }).from;
    if (typeof from !== 'string' || from === this.processId) return;
    for (const handler of [...(this.handlers.get(event) ?? [])]) {
      try {
        handler(message as ClusterMessage);
      } catch (err) {
        onError(err);
      }
    }
  }
}

/** One process (SQLite): there is nobody to tell. */
export class LocalClusterBus extends ClusterBus {
  readonly clustered = false;

  attach(): void {}

  publish(): void {}

  remoteConnection(deviceId: string): DeviceConnection {
    throw new Error(`a single Hive process has no other process holding device ${deviceId}`);
  }

  socketIoAdapter(): undefined {
    return undefined;
  }
}
