import { Injectable, Logger, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { ChangeFeed } from '../changes/change-feed';
import { ClusterBus, ClusterEvents, ClusterMessage, LocalClusterBus } from '../cluster/cluster-bus';
import { DevicePresence, PresenceMessage, RemotePresence } from '../cluster/remote-presence';
import { DeviceConnection } from './device-connection';

export interface SessionStatus {
  /** A connection whose token Hive accepted is open. */
  online: boolean;
  /** That connection has also proved the passphrase, so it may receive commands. */
  authenticated: boolean;
}

/** Each process tells the others it is alive this often; the beat also carries how far its presence messages went. */
export const PRESENCE_BEAT_MS = 2_000;
/** A process unheard for this long is counted out, with its devices (it died, or cannot reach PostgreSQL). */
export const PRESENCE_PEER_TIMEOUT_MS = 10_000;

/**
 * Who is connected right now: every open connection per device, and the one that proved the
 * passphrase last. A newer proof replaces (disconnects) the older connection, so a device is
 * never reached twice. It lives in memory: after a restart devices simply connect again.
 *
 * In a cluster of Hive processes (docs/architecture.md "The Hive cluster") it also knows the
 * devices the other processes hold, from their presence messages: `status` and
 * `authenticatedConnection` answer for the whole cluster (a device held elsewhere is reached
 * through its room), a proof on another process disconnects this one's older connection and
 * wakes the `onAuthenticated` listeners here too, and a revocation closes the device everywhere.
 * `isAuthenticated` and `census` are about this process's own connections.
 */
@Injectable()
export class DeviceSessionRegistry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Sessions');
  private readonly openByDevice = new Map<string, Set<DeviceConnection>>();
  private readonly authenticatedByDevice = new Map<string, DeviceConnection>();
  private readonly authenticatedListeners = new Set<(deviceId: string) => void>();
  private readonly remote = new RemotePresence();
  /** This process's presence messages: their sequence number, and the one that last changed each device. */
  private seq = 0;
  private readonly seqByDevice = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private flushing?: NodeJS.Immediate;
  private beatTimer?: NodeJS.Timeout;
  private readonly stops: Array<() => void> = [];

  constructor(
    private readonly changes: ChangeFeed = new ChangeFeed(),
    private readonly bus: ClusterBus = new LocalClusterBus(),
  ) {}

  /** Joins the cluster: asks the others for their devices, and beats from now on. */
  onApplicationBootstrap(): void {
    if (!this.bus.clustered) return;
    this.stops.push(
      this.bus.subscribe(ClusterEvents.presence, (message) => this.presenceReceived(message)),
      this.bus.subscribe(ClusterEvents.presenceSync, (message) => this.syncAsked(message)),
      this.bus.subscribe(ClusterEvents.beat, (message) => this.beatReceived(message)),
      this.bus.subscribe(ClusterEvents.bye, (message) => this.remoteChanged(this.remote.bye(message.from))),
      this.bus.subscribe(ClusterEvents.disconnect, (message) => this.disconnectAsked(message)),
    );
    this.bus.publish(ClusterEvents.presenceSync, { seq: this.seq });
    this.beatTimer = setInterval(() => this.beat(), PRESENCE_BEAT_MS);
    this.beatTimer.unref();
  }

  /** Says goodbye before the sockets close, so the others count this process's devices out at once. */
  beforeApplicationShutdown(): void {
    if (!this.bus.clustered) return;
    clearInterval(this.beatTimer);
    if (this.flushing) clearImmediate(this.flushing);
    for (const stop of this.stops.splice(0)) stop();
    this.bus.publish(ClusterEvents.bye, {});
  }

  add(connection: DeviceConnection): void {
    const open = this.openByDevice.get(connection.deviceId) ?? new Set<DeviceConnection>();
    open.add(connection);
    this.openByDevice.set(connection.deviceId, open);
    this.localChanged(connection.deviceId);
  }

  /**
   * Marks the connection as the device's authenticated one and disconnects the one it replaces
   * (on another process, that one is closed when its process hears of this proof). The other
   * processes hear of it after this turn of the event loop: call it right before the proof's
   * acknowledgement, so that nothing they send reaches the device before that.
   */
  authenticate(connection: DeviceConnection): void {
    if (!this.openByDevice.get(connection.deviceId)?.has(connection)) return;
    const previous = this.authenticatedByDevice.get(connection.deviceId);
    this.authenticatedByDevice.set(connection.deviceId, connection);
    if (previous && previous !== connection) {
      this.logger.log(`device ${connection.deviceId} authenticated again; closing its older connection`);
      this.remove(previous);
      previous.disconnect();
    }
    this.localChanged(connection.deviceId);
    this.tellAuthenticated(connection.deviceId);
  }

  /**
   * Calls `listener` each time a device proves the passphrase, on this process or another (so
   * work waiting for it can go on). It runs before the proof is acknowledged: defer anything that
   * sends to the device. Returns the function that stops listening.
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
    this.localChanged(connection.deviceId);
  }

  /** Is this connection (of this process) its device's authenticated one? */
  isAuthenticated(connection: DeviceConnection): boolean {
    return this.authenticatedByDevice.get(connection.deviceId) === connection;
  }

  /** The connection commands go to, if the device has one: this process's, or its room when another process holds it. */
  authenticatedConnection(deviceId: string): DeviceConnection | undefined {
    const local = this.authenticatedByDevice.get(deviceId);
    if (local) return local;
    return this.remote.status(deviceId).authenticated ? this.bus.remoteConnection(deviceId) : undefined;
  }

  /** The device's status across the cluster. */
  status(deviceId: string): SessionStatus {
    const remote = this.remote.status(deviceId);
    return {
      online: this.openByDevice.has(deviceId) || remote.online,
      authenticated: this.authenticatedByDevice.has(deviceId) || remote.authenticated,
    };
  }

  /** This process's devices with an open connection, and how many of them proved the passphrase (for its metrics). */
  census(): { online: string[]; authenticated: number } {
    return { online: [...this.openByDevice.keys()], authenticated: this.authenticatedByDevice.size };
  }

  /** Closes every connection of one device (it was revoked), on every process. */
  disconnectDevice(deviceId: string): void {
    this.disconnectLocal(deviceId);
    this.bus.publish(ClusterEvents.disconnect, { deviceId });
  }

  /** Closes every device's connections (the passphrase was replaced), on every process. */
  disconnectAll(): void {
    for (const deviceId of [...this.openByDevice.keys()]) this.disconnectLocal(deviceId);
    this.bus.publish(ClusterEvents.disconnect, { all: true });
  }

  private disconnectLocal(deviceId: string): void {
    for (const connection of [...(this.openByDevice.get(deviceId) ?? [])]) {
      this.remove(connection);
      connection.disconnect();
    }
  }

  private tellAuthenticated(deviceId: string): void {
    for (const listener of [...this.authenticatedListeners]) {
      try {
        listener(deviceId);
      } catch (err) {
        this.logger.error(`a listener of authenticated devices failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  /** Tells the Console, and (gathered for this turn) the other processes. */
  private localChanged(deviceId: string): void {
    this.changes.publish('devices', deviceId);
    if (!this.bus.clustered) return;
    this.dirty.add(deviceId);
    this.flushing ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushing = undefined;
    if (this.dirty.size === 0) return;
    const seq = ++this.seq;
    const devices: Record<string, DevicePresence> = {};
    for (const deviceId of this.dirty) {
      const presence = this.localPresence(deviceId);
      devices[deviceId] = presence;
      if (presence.open === 0 && presence.auth === null) this.seqByDevice.delete(deviceId);
      else this.seqByDevice.set(deviceId, seq);
    }
    this.dirty.clear();
    this.bus.publish(ClusterEvents.presence, { seq, snapshot: false, devices });
  }

  private localPresence(deviceId: string): DevicePresence {
    return { open: this.openByDevice.get(deviceId)?.size ?? 0, auth: this.authenticatedByDevice.get(deviceId)?.connectionId ?? null };
  }

  private beat(): void {
    this.bus.publish(ClusterEvents.beat, { seq: this.seq });
    this.remoteChanged(this.remote.expire(Date.now(), PRESENCE_PEER_TIMEOUT_MS));
  }

  private presenceReceived(raw: Record<string, unknown>): void {
    const message = readPresence(raw);
    if (!message) return this.logger.warn(`a malformed presence message from process ${raw.from}; ignored`);
    const outcome = this.remote.update(message, Date.now());
    if (outcome.needSync) this.bus.publish(ClusterEvents.presenceSync, { seq: this.seq, of: message.from });
    this.remoteChanged(outcome.changed);
    for (const deviceId of outcome.proved) {
      // The newer proof wins: this process's connection of the device is the older one.
      const local = this.authenticatedByDevice.get(deviceId);
      if (local && !message.snapshot) {
        this.logger.log(`device ${deviceId} authenticated on another Hive process; closing its older connection here`);
        this.remove(local);
        local.disconnect();
      }
      this.tellAuthenticated(deviceId);
    }
  }

  /** A process asks for the others' devices (all of them, or `of` alone): it hears this one's snapshot. */
  private syncAsked(message: ClusterMessage): void {
    if (typeof message.seq === 'number') {
      const outcome = this.remote.beat(message.from, message.seq, Date.now());
      if (outcome.needSync) this.bus.publish(ClusterEvents.presenceSync, { seq: this.seq, of: message.from });
    }
    if (message.of !== undefined && message.of !== this.bus.processId) return;
    const devices: Record<string, DevicePresence & { seq: number }> = {};
    for (const [deviceId, seq] of this.seqByDevice) devices[deviceId] = { ...this.localPresence(deviceId), seq };
    this.bus.publish(ClusterEvents.presence, { seq: this.seq, snapshot: true, devices });
  }

  private beatReceived(message: ClusterMessage): void {
    if (typeof message.seq !== 'number') return;
    if (this.remote.beat(message.from, message.seq, Date.now()).needSync) {
      this.bus.publish(ClusterEvents.presenceSync, { seq: this.seq, of: message.from });
    }
  }

  private disconnectAsked(message: Record<string, unknown>): void {
    if (message.all === true) {
      for (const deviceId of [...this.openByDevice.keys()]) this.disconnectLocal(deviceId);
    } else if (typeof message.deviceId === 'string') {
      this.disconnectLocal(message.deviceId);
    }
  }

  /** The Console hears of devices whose status changed on another process (not relayed further: that process told its own). */
  private remoteChanged(deviceIds: string[]): void {
    for (const id of deviceIds) this.changes.receive({ topic: 'devices', id });
  }
}

/** A presence message checked at the boundary: counts and ids of the right types, nothing more trusted. */
function readPresence(raw: Record<string, unknown>): PresenceMessage | undefined {
  const { from, seq, snapshot, devices } = raw;
  if (typeof from !== 'string' || typeof seq !== 'number' || !Number.isInteger(seq) || typeof snapshot !== 'boolean') return undefined;
  if (devices === null || typeof devices !== 'object' || Array.isArray(devices)) return undefined;
  const checked: PresenceMessage['devices'] = {};
  for (const [deviceId, state] of Object.entries(devices as Record<string, unknown>)) {
    if (state === null || typeof state !== 'object') return undefined;
    const { open, auth, seq: deviceSeq } = state as Record<string, unknown>;
    if (typeof open !== 'number' || !Number.isInteger(open) || open < 0) return undefined;
    if (auth !== null && typeof auth !== 'string') return undefined;
    if (deviceSeq !== undefined && typeof deviceSeq !== 'number') return undefined;
    checked[deviceId] = deviceSeq === undefined ? { open, auth } : { open, auth, seq: deviceSeq };
  }
  return { from, seq, snapshot, devices: checked };
}
