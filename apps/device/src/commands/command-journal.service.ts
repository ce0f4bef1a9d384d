import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ErrorCode } from '@mosaic/protocol';
import { Clock } from '../common/clock';
import { StateDocument, StateStore } from '../common/state-store';
import { boundResult } from './bounded-result';

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
  /** The lock the command held (its instance), so that a restart that cuts it off knows what it ran for. */
  lock?: string;
  result?: StoredResult;
  /** The result was cut to JOURNAL_RESULT_MAX_BYTES (what Hive was sent first was whole). */
  cut?: true;
}

/** §2 idempotency: at least the last 1,000 ids or 24 hours, across restarts. */
export const JOURNAL_KEEP_COUNT = 1000;
export const JOURNAL_KEEP_MS = 24 * 3600 * 1000;
/** A bound on the entries even when more than this arrive within a day. */
export const JOURNAL_MAX = 20_000;
/** A result kept for a repeated id is cut to this (an app command's output can be 128 KiB). */
export const JOURNAL_RESULT_MAX_BYTES = 8 * 1024;
/** A bound on the file; JOURNAL_KEEP_COUNT entries of the largest kind fit in it with room to spare. */
export const JOURNAL_MAX_BYTES = 16 * 1024 * 1024;
/** A file larger than this (left by an older device) is set aside at boot rather than read. */
const JOURNAL_READ_MAX_BYTES = 4 * JOURNAL_MAX_BYTES;
const JOURNAL_FILE = 'commands.json';

/** An entry and its JSON, made once: a write joins these instead of serializing every entry again. */
interface Kept {
  entry: JournalEntry;
  json: string;
  bytes: number;
}

@Injectable()
export class CommandJournalService implements OnModuleInit {
  private readonly logger = new Logger('CommandJournal');
  /** In the order received: the oldest first. */
  private readonly entries = new Map<string, Kept>();
  /** The bytes of the entries' JSON, without the brackets and commas around them. */
  private entryBytes = 0;
  private readonly file: StateDocument;
  /** Commands that were running when the device stopped (with the lock each held): the intake resumes or ends each. */
  readonly unfinished: Array<{ id: string; type: string; lock?: string }> = [];

  constructor(
    private readonly state: StateStore,
    private readonly clock: Clock,
  ) {
    this.file = state.document(JOURNAL_FILE, () => `[${[...this.entries.values()].map((k) => k.json).join(',')}]`);
  }

  onModuleInit(): void {
    const stored = this.state.read<JournalEntry[]>(JOURNAL_FILE, JOURNAL_READ_MAX_BYTES) ?? [];
    let changed = false;
    for (const entry of Array.isArray(stored) ? stored : []) {
      if (!entry || typeof entry.id !== 'string') continue;
      if (!entry.result) this.unfinished.push({ id: entry.id, type: entry.type, ...(typeof entry.lock === 'string' && { lock: entry.lock }) });
      changed = this.keep(entry, entry.result) || changed;
    }
    const size = this.entries.size;
    this.prune();
    if (this.unfinished.length) this.logger.warn(`${this.unfinished.length} command(s) were cut off by a restart`);
    if (changed || this.entries.size < size) this.file.save();
  }

  /** Ends a command a restart cut off, and nothing took over: INTERNAL. Returns the result to report. */
  interrupt(id: string): StoredResult {
    const result: StoredResult = {
      id,
      type: this.entries.get(id)?.entry.type ?? '',
      ok: false,
      error: { code: ErrorCode.INTERNAL, message: 'The device restarted while this command was running.' },
      finishedAt: this.clock.now().toISOString(),
    };
    this.finish(result);
    return result;
  }

  find(id: string): JournalEntry | undefined {
    return this.entries.get(id)?.entry;
  }

  /** A command accepted; `lock`, the lock it holds while it runs (its instance), if any. */
  begin(id: string, type: string, lock?: string): void {
    this.keep({ id, type, receivedAt: this.clock.now().toISOString(), ...(lock !== undefined && { lock }) });
    this.prune();
    this.file.save();
  }

  finish(result: StoredResult): void {
    const kept = this.entries.get(result.id);
    if (!kept) return;
    this.keep(kept.entry, result);
    this.prune();
    this.file.save();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The bytes the journal's file takes. */
  get sizeBytes(): number {
    return this.entryBytes + 2 + Math.max(0, this.entries.size - 1);
  }

  /** Resolves once the journal as it is now is on disk (or its write failed). */
  flushed(): Promise<void> {
    return this.file.flushed();
  }

  /** Adds or replaces an entry, its result cut to JOURNAL_RESULT_MAX_BYTES; true when this cut it. */
  private keep(entry: JournalEntry, result?: StoredResult): boolean {
    const kept: JournalEntry = { id: entry.id, type: entry.type, receivedAt: entry.receivedAt };
    // Only a running command needs its lock: a result ends what a restart could cut off.
    if (!result && typeof entry.lock === 'string') kept.lock = entry.lock;
    const bounded = result && boundResult(result, JOURNAL_RESULT_MAX_BYTES);
    if (bounded) {
      kept.result = bounded.result;
      if (bounded.cut || entry.cut) kept.cut = true;
      if (bounded.cut) this.logger.debug(`the result of ${entry.id} is kept cut to ${JOURNAL_RESULT_MAX_BYTES} bytes`);
    }
    const json = JSON.stringify(kept);
    const bytes = Buffer.byteLength(json);
    const old = this.entries.get(entry.id);
    if (old) this.entryBytes -= old.bytes;
    this.entries.set(entry.id, { entry: kept, json, bytes });
    this.entryBytes += bytes;
    return bounded?.cut ?? false;
  }

  /**
   * Forgets finished commands beyond §2's floor (older than 24 h and not among the newest 1,000),
   * and the oldest finished ones beyond JOURNAL_MAX entries or JOURNAL_MAX_BYTES. Running ones stay.
   * Oldest first, stopping at the first to keep: the rest are newer, so each call costs little.
   */
  private prune(): void {
    const cutoff = this.clock.now().getTime() - JOURNAL_KEEP_MS;
    let fromNewest = this.entries.size;
    for (const [id, kept] of this.entries) {
      fromNewest--;
      if (!kept.entry.result) continue;
      const forgettable = fromNewest >= JOURNAL_KEEP_COUNT && Date.parse(kept.entry.receivedAt) < cutoff;
      const overBounds = this.entries.size > JOURNAL_MAX || this.sizeBytes > JOURNAL_MAX_BYTES;
      if (!forgettable && !overBounds) break;
      this.entries.delete(id);
      this.entryBytes -= kept.bytes;
    }
  }
}
