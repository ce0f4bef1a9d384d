import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { ErrorCode } from '@mosaic/protocol';
import { Clock } from '../common/clock';
import { StateFileAdapter } from '../common/state-file.adapter';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';

/** The `command.result` payload as sent, kept so a repeated id gets the same answer. */
export interface StoredResult {
  id: string;
  type: string;
  ok: boolean;
  result?: unknown;
  error?: unknown;
  finishedAt: string;
}

interface JournalEntry {
  id: string;
  type: string;
  receivedAt: string;
  result?: StoredResult;
}

/** §2 idempotency: at least the last 1,000 ids or 24 hours, across restarts. */
export const JOURNAL_KEEP_COUNT = 1000;
export const JOURNAL_KEEP_MS = 24 * 3600 * 1000;
/** A bound on the file even when more than this arrive within a day. */
export const JOURNAL_MAX = 20_000;

@Injectable()
export class CommandJournalService implements OnModuleInit {
  private readonly logger = new Logger('CommandJournal');
  private readonly path: string;
  private readonly entries = new Map<string, JournalEntry>();
  /** Commands that were running when the device stopped: the intake resumes or ends each. */
  readonly unfinished: Array<{ id: string; type: string }> = [];

  constructor(
    @Inject(DEVICE_CONFIG) config: DeviceConfig,
    private readonly files: StateFileAdapter,
    private readonly clock: Clock,
  ) {
    this.path = join(config.stateDir, 'commands.json');
  }

  onModuleInit(): void {
    const stored = this.files.read<JournalEntry[]>(this.path) ?? [];
    for (const entry of Array.isArray(stored) ? stored : []) {
      if (!entry || typeof entry.id !== 'string') continue;
      if (!entry.result) this.unfinished.push({ id: entry.id, type: entry.type });
      this.entries.set(entry.id, entry);
    }
    if (this.unfinished.length) this.logger.warn(`${this.unfinished.length} command(s) were cut off by a restart`);
  }

  /** Ends a command a restart cut off, and nothing took over: INTERNAL. Returns the result to report. */
  interrupt(id: string): StoredResult {
    const entry = this.entries.get(id);
    const result: StoredResult = {
      id,
      type: entry?.type ?? '',
      ok: false,
      error: { code: ErrorCode.INTERNAL, message: 'The device restarted while this command was running.' },
      finishedAt: this.clock.now().toISOString(),
    };
    this.finish(result);
    return result;
  }

  find(id: string): JournalEntry | undefined {
    return this.entries.get(id);
  }

  begin(id: string, type: string): void {
    this.entries.set(id, { id, type, receivedAt: this.clock.now().toISOString() });
    this.prune();
    this.persist();
  }

  finish(result: StoredResult): void {
    const entry = this.entries.get(result.id);
    if (!entry) return;
    entry.result = result;
    this.persist();
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(): void {
    const cutoff = this.clock.now().getTime() - JOURNAL_KEEP_MS;
    const all = [...this.entries.values()];
    all.forEach((entry, index) => {
      const fromNewest = all.length - 1 - index;
      const old = Date.parse(entry.receivedAt) < cutoff;
      if (entry.result && ((old && fromNewest >= JOURNAL_KEEP_COUNT) || fromNewest >= JOURNAL_MAX)) {
        this.entries.delete(entry.id);
      }
    });
  }

  private persist(): void {
    this.files.write(this.path, [...this.entries.values()]);
  }
}
