import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { CHANGE_TOPICS, Change, ChangeFeed, ChangeTopic } from '../changes/change-feed';
import { ClusterBus, ClusterEvents } from './cluster-bus';

/** How long changes are gathered before they go to the other processes: a Console refetches once per notice anyway. */
export const CHANGE_RELAY_MS = 50;
/** Past this many ids of one topic in one batch, the topic alone is sent (refetch it all): the message stays small. */
export const CHANGE_RELAY_MAX_IDS = 50;

const TOPICS: ReadonlySet<string> = new Set(CHANGE_TOPICS);

/**
 * Console live events across Hive processes: the changes made on this process go, gathered for
 * CHANGE_RELAY_MS and without repeats, to the others, whose Console sockets hear them as if made
 * there. Nothing is relayed on a single process.
 */
@Injectable()
export class ChangeRelay implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ChangeRelay');
  private readonly pending = new Map<string, Change>();
  private timer?: NodeJS.Timeout;
  private readonly stops: Array<() => void> = [];

  constructor(
    private readonly changes: ChangeFeed,
    private readonly bus: ClusterBus,
  ) {}

  onModuleInit(): void {
    if (!this.bus.clustered) return;
    this.stops.push(
      this.changes.relayLocal((change) => this.queue(change)),
      this.bus.subscribe(ClusterEvents.changes, (message) => {
        for (const change of readChanges(message.changes)) this.changes.receive(change);
      }),
    );
  }

  onApplicationShutdown(): void {
    for (const stop of this.stops.splice(0)) stop();
    clearTimeout(this.timer);
  }

  private queue(change: Change): void {
    this.pending.set(change.id === undefined ? change.topic : `${change.topic}\0${change.id}`, change);
    this.timer ??= setTimeout(() => this.flush(), CHANGE_RELAY_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const byTopic = new Map<ChangeTopic, Change[]>();
    for (const change of this.pending.values()) byTopic.set(change.topic, [...(byTopic.get(change.topic) ?? []), change]);
    this.pending.clear();
    const changes: Change[] = [];
    for (const [topic, list] of byTopic) {
      const whole = list.some((change) => change.id === undefined) || list.length > CHANGE_RELAY_MAX_IDS;
      changes.push(...(whole ? [{ topic }] : list));
    }
    try {
      this.bus.publish(ClusterEvents.changes, { changes });
    } catch (err) {
      this.logger.warn(`relaying ${changes.length} change(s) failed: ${(err as Error).message}`);
    }
  }
}

/** The well-formed changes of a relayed message; anything else is dropped. */
function readChanges(raw: unknown): Change[] {
  if (!Array.isArray(raw)) return [];
  const changes: Change[] = [];
  for (const item of raw.slice(0, CHANGE_TOPICS.length * (CHANGE_RELAY_MAX_IDS + 1))) {
    if (item === null || typeof item !== 'object') continue;
    const { topic, id } = item as { topic?: unknown; id?: unknown };
    if (typeof topic !== 'string' || !TOPICS.has(topic)) continue;
    if (id !== undefined && (typeof id !== 'string' || id.length > 200)) continue;
    changes.push(id === undefined ? { topic: topic as ChangeTopic } : { topic: topic as ChangeTopic, id });
  }
  return changes;
}
