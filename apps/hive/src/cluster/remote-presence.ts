/** One device on one process: how many connections it has there, and the one that proved the passphrase. */
export interface DevicePresence {
  open: number;
  /** The connection id of the authenticated connection, or null. */
  auth: string | null;
}

/** A process's presence message: the devices that changed (an update) or all of its devices (a snapshot). */
export interface PresenceMessage {
  from: string;
  /** The sender's sequence number of this message; a snapshot carries the latest it had sent. */
  seq: number;
  snapshot: boolean;
  /** By device id; in a snapshot, with the sequence number that last changed each device. */
  devices: Record<string, DevicePresence & { seq?: number }>;
}

/** What applying a message changed here. */
export interface PresenceOutcome {
  /** Devices whose cluster-wide status may have changed. */
  changed: string[];
  /** Devices that proved the passphrase on that process since this one last heard of them. */
  proved: string[];
  /** This process missed messages of that one (or never heard of it): ask it for its snapshot. */
  needSync: boolean;
}

interface Entry {
  seq: number;
  presence: DevicePresence;
}

interface Peer {
  devices: Map<string, Entry>;
  /** Every message up to this sequence number was received (or covered by a snapshot). */
  contiguous: number;
  /** Received numbers above `contiguous`. */
  ahead: Set<number>;
  /** The sequence number the peer announced at its previous beat. */
  beatSeq: number;
  lastHeard: number;
}

const NOTHING: PresenceOutcome = { changed: [], proved: [], needSync: false };

/**
 * The devices other Hive processes hold, as their presence messages tell (docs/architecture.md
 * "The Hive cluster"). Pure bookkeeping, no timers and no I/O: the session registry feeds it
 * messages and the time.
 *
 * Messages may arrive out of order or not at all (NOTIFY runs on several connections; one is lost
 * while PostgreSQL restarts). Each carries absolute states, stamped per device with the sender's
 * sequence number, so an older one never overwrites a newer one; a gap that a whole beat later is
 * still open means a lost message, and the sender's snapshot makes it good. A process unheard for
 * the timeout, or that said goodbye, is gone with its devices.
 */
export class RemotePresence {
  private readonly peers = new Map<string, Peer>();
  /** Processes that said goodbye: whatever they still send is late. */
  private readonly departed = new Set<string>();

  update(message: PresenceMessage, now: number): PresenceOutcome {
    if (this.departed.has(message.from)) return NOTHING;
    const known = this.peers.has(message.from);
    const peer = this.peer(message.from, now);
    const outcome: PresenceOutcome = { changed: [], proved: [], needSync: !known && !message.snapshot };
    if (message.snapshot) {
      for (const [deviceId, state] of Object.entries(message.devices)) {
        this.set(peer, deviceId, state.seq ?? message.seq, { open: state.open, auth: state.auth }, outcome);
      }
      for (const [deviceId, entry] of [...peer.devices]) {
        if (!(deviceId in message.devices) && entry.seq <= message.seq) this.set(peer, deviceId, message.seq, { open: 0, auth: null }, outcome);
      }
      this.received(peer, message.seq, true);
    } else {
      for (const [deviceId, state] of Object.entries(message.devices)) this.set(peer, deviceId, message.seq, state, outcome);
      this.received(peer, message.seq, false);
    }
    return outcome;
  }

  /** A beat: the peer is alive and has sent up to `seq`. Asks for a snapshot when a gap outlived one beat. */
  beat(from: string, seq: number, now: number): PresenceOutcome {
    if (this.departed.has(from)) return NOTHING;
    const known = this.peers.has(from);
    const peer = this.peer(from, now);
    const needSync = !known ? seq > 0 : peer.contiguous < peer.beatSeq;
    peer.beatSeq = Math.max(peer.beatSeq, seq);
    for (const [deviceId, entry] of [...peer.devices]) {
      if (entry.seq <= peer.contiguous && isGone(entry.presence)) peer.devices.delete(deviceId);
    }
    return { changed: [], proved: [], needSync };
  }

  /** The peer stops (or was counted out): its devices are gone. */
  bye(from: string): string[] {
    this.departed.add(from);
    return this.drop(from);
  }

  /** Drops the peers unheard for `timeoutMs`; returns their devices. */
  expire(now: number, timeoutMs: number): string[] {
    const changed: string[] = [];
    for (const [id, peer] of [...this.peers]) if (now - peer.lastHeard > timeoutMs) changed.push(...this.drop(id));
    return changed;
  }

  /** The device's connections on the other processes. */
  status(deviceId: string): { online: boolean; authenticated: boolean } {
    let online = false;
    let authenticated = false;
    for (const peer of this.peers.values()) {
      const entry = peer.devices.get(deviceId);
      if (!entry) continue;
      online ||= entry.presence.open > 0;
      authenticated ||= entry.presence.auth !== null;
    }
    return { online, authenticated };
  }

  /** How many processes are heard from. */
  get peerCount(): number {
    return this.peers.size;
  }

  private peer(id: string, now: number): Peer {
    let peer = this.peers.get(id);
    if (!peer) {
      peer = { devices: new Map(), contiguous: 0, ahead: new Set(), beatSeq: 0, lastHeard: now };
      this.peers.set(id, peer);
    }
    peer.lastHeard = now;
    return peer;
  }

  private set(peer: Peer, deviceId: string, seq: number, presence: DevicePresence, outcome: PresenceOutcome): void {
    const entry = peer.devices.get(deviceId);
    if (entry && entry.seq >= seq) return;
    const before = entry?.presence ?? { open: 0, auth: null };
    // A device gone from the peer stays as a tombstone with its sequence number, until no older message can come.
    peer.devices.set(deviceId, { seq, presence });
    if (before.open !== presence.open || before.auth !== presence.auth) outcome.changed.push(deviceId);
    if (presence.auth !== null && presence.auth !== before.auth) outcome.proved.push(deviceId);
  }

  private received(peer: Peer, seq: number, snapshot: boolean): void {
    if (snapshot) {
      peer.contiguous = Math.max(peer.contiguous, seq);
    } else if (seq > peer.contiguous) {
      peer.ahead.add(seq);
    }
    for (const n of [...peer.ahead]) if (n <= peer.contiguous) peer.ahead.delete(n);
    while (peer.ahead.delete(peer.contiguous + 1)) peer.contiguous++;
  }

  private drop(id: string): string[] {
    const peer = this.peers.get(id);
    this.peers.delete(id);
    return peer ? [...peer.devices].filter(([, entry]) => !isGone(entry.presence)).map(([deviceId]) => deviceId) : [];
  }
}

function isGone(presence: DevicePresence): boolean {
  return presence.open === 0 && presence.auth === null;
}
