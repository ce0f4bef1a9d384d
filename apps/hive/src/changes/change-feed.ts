import { Injectable, Logger } from '@nestjs/common';

/** What the Console refetches when told: the kind of thing that changed. */
export const CHANGE_TOPICS = ['devices', 'apps', 'commands', 'moves', 'account', 'settings'] as const;
export type ChangeTopic = (typeof CHANGE_TOPICS)[number];

/** One change: its topic and, where there is one, the id of what changed (device, instance, command, move). */
export interface Change {
  topic: ChangeTopic;
  id?: string;
}

/**
 * Notices that something the REST API shows has changed, so the Console can be told (live
 * updates, not polling). Services publish; the Console gateway listens. Publishing never throws:
 * a failing listener is logged and the others still hear the change. In a cluster of Hive
 * processes the changes made here are relayed to the others (cluster/change-relay.ts), whose
 * listeners hear them through `receive`.
 */
@Injectable()
export class ChangeFeed {
  private readonly logger = new Logger('ChangeFeed');
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly relays = new Set<(change: Change) => void>();

  /** A change made by this process: its listeners hear it, and the relays send it to the other processes. */
  publish(topic: ChangeTopic, id?: string): void {
    const change: Change = id === undefined ? { topic } : { topic, id };
    this.notify(change, this.listeners);
    this.notify(change, this.relays);
  }

  /** A change made by another process of the cluster: this process's listeners hear it, and it goes no further. */
  receive(change: Change): void {
    this.notify(change, this.listeners);
  }

  /** Calls `relay` with each change this process publishes (not those it receives). Returns the function that stops it. */
  relayLocal(relay: (change: Change) => void): () => void {
    this.relays.add(relay);
    return () => this.relays.delete(relay);
  }

  private notify(change: Change, listeners: Set<(change: Change) => void>): void {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.logger.error(`a change listener failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  /** Returns the function that stops listening. */
  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
