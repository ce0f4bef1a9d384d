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
 * In-process notices that something the REST API shows has changed, so the Console can be told
 * (live updates, not polling). Services publish; the Console gateway listens. Publishing never
 * throws: a failing listener is logged and the others still hear the change.
 */
@Injectable()
export class ChangeFeed {
  private readonly logger = new Logger('ChangeFeed');
  private readonly listeners = new Set<(change: Change) => void>();

  publish(topic: ChangeTopic, id?: string): void {
    const change: Change = id === undefined ? { topic } : { topic, id };
    for (const listener of [...this.listeners]) {
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
