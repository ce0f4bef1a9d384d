import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ErrorCode, OkAckDto, ReportEvent, isRetryableError, validatePayload } from '@mosaic/protocol';
import { StateDocument, StateStore } from '../common/state-store';
import { HiveConnectionService, HiveUnavailableError } from './hive-connection.service';

export interface OutboxEntry {
  /** Entries with the same key replace each other: one per report kind, one per command result. */
  key: string;
  event: string;
  payload: unknown;
}

const OUTBOX_FILE = 'outbox.json';

/**
 * §4: reports and results wait here until Hive acknowledges them. The outbox is a file in
 * STATE_DIR, so nothing is lost to a restart; it is re-sent after every accepted handshake.
 */
@Injectable()
export class OutboxService implements OnModuleInit {
  private readonly logger = new Logger('Outbox');
  private readonly file: StateDocument;
  private entries: OutboxEntry[] = [];
  /** Deliveries run one after another; each call's promise settles once its turn is done. */
  private delivering: Promise<void> = Promise.resolve();
  private readonly deliveredListeners: Array<(event: string, payload: unknown) => void> = [];

  constructor(
    private readonly state: StateStore,
    private readonly hive: HiveConnectionService,
  ) {
    this.file = state.document(OUTBOX_FILE, () => JSON.stringify(this.entries));
  }

  onModuleInit(): void {
    const stored = this.state.read<OutboxEntry[]>(OUTBOX_FILE);
    this.entries = Array.isArray(stored) ? stored.filter((e) => e && typeof e.key === 'string') : [];
    if (this.entries.length) this.logger.log(`${this.entries.length} message(s) waiting from before the restart`);
    this.hive.onAuthenticated(() => void this.flush());
  }

  /** Calls `listener` for each message the Hive acknowledged with `ok: true`. */
  onDelivered(listener: (event: string, payload: unknown) => void): void {
    this.deliveredListeners.push(listener);
  }

  get depth(): number {
    return this.entries.length;
  }

  /** How many reports and how many command results wait for Hive's acknowledgement. */
  depthByKind(): { report: number; result: number } {
    const result = this.entries.filter((e) => e.key.startsWith('result:')).length;
    return { report: this.entries.length - result, result };
  }

  /** Queues the newest report of its kind and tries to deliver it. */
  sendReport(event: ReportEvent, payload: unknown): Promise<void> {
    return this.enqueue({ key: event, event, payload });
  }

  /** Queues a command result (kept until acknowledged) and tries to deliver it. */
  sendResult(event: string, id: string, payload: unknown): Promise<void> {
    return this.enqueue({ key: `result:${id}`, event, payload });
  }

  private enqueue(entry: OutboxEntry): Promise<void> {
    const at = this.entries.findIndex((e) => e.key === entry.key);
    if (at >= 0) this.entries.splice(at, 1);
    this.entries.push(entry);
    this.persist();
    return this.flush();
  }

  /** Delivers in order; stops at the first message Hive does not acknowledge. */
  flush(): Promise<void> {
    this.delivering = this.delivering.then(() => this.deliver()).catch((err: Error) => {
      this.logger.error(`outbox delivery failed: ${err.message}`);
    });
    return this.delivering;
  }

  private async deliver(): Promise<void> {
    while (this.entries.length && this.hive.authenticated) {
      const entry = this.entries[0];
      let response: unknown;
      try {
        response = await this.hive.request(entry.event, entry.payload);
      } catch (err) {
        if (!(err instanceof HiveUnavailableError)) throw err;
        this.logger.debug(err.message);
        return;
      }
      const ack = validatePayload(OkAckDto, response);
      if (ack.ok && !ack.value.ok && ack.value.error?.code === ErrorCode.NOT_AUTHENTICATED) return;
      if (ack.ok && !ack.value.ok && isRetryableError(ack.value.error)) {
        // A passing failure of the Hive (its database away, §7): kept, sent again at the next flush or handshake.
        this.logger.warn(`Hive could not take ${entry.event} now; kept to send again: ${ack.value.error?.message ?? ''}`);
        return;
      }
      if (!ack.ok || !ack.value.ok) {
        // Hive refused the message itself; sending it again would be refused again and block the rest.
        this.logger.error(`Hive refused ${entry.event}: ${JSON.stringify(ack.ok ? ack.value.error : ack.details)}`);
      }
      if (this.entries[0] === entry) this.entries.shift();
      this.persist();
      if (ack.ok && ack.value.ok) {
        this.logger.debug(`delivered ${entry.key}`);
        for (const listener of this.deliveredListeners) {
          try {
            listener(entry.event, entry.payload);
          } catch (err) {
            this.logger.error(`a listener of delivered messages failed: ${(err as Error).message}`);
          }
        }
      }
    }
  }

  private persist(): void {
    this.file.save();
  }
}
