import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { Clock } from './clock';
import { StateFileAdapter } from './state-file.adapter';

/** How soon a failed write is tried again when nothing new asks for one (a full disk freed meanwhile). */
export const STATE_RETRY_MS = 5000;

export type StateDirStatus = { writable: true } | { writable: false; error: string; since: string };

interface WriteOutcomes {
  wrote(path: string): void;
  failed(path: string, err: unknown): void;
}

/**
 * One file of STATE_DIR kept in step with the state in memory: `save()` never blocks and never
 * throws; writes are coalesced (one at a time, the newest state each time) and a failed one is
 * tried again, so the device goes on serving from memory while the disk is full.
 */
export class StateDocument {
  private dirty = false;
  private writing?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    readonly path: string,
    private readonly serialize: () => string,
    private readonly files: StateFileAdapter,
    private readonly outcomes: WriteOutcomes,
  ) {}

  save(): void {
    this.dirty = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.writing) return;
    // Cleared once the loop has ended: a save() landing in between starts the next one.
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      if (this.dirty) this.save();
    });
  }

  /** Resolves once everything saved so far is on disk, or its write has failed. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  close(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      try {
        await this.files.write(this.path, this.serialize());
        this.outcomes.wrote(this.path);
      } catch (err) {
        this.outcomes.failed(this.path, err);
        if (!this.dirty) this.retryTimer = setTimeout(() => this.save(), STATE_RETRY_MS).unref();
      }
    }
  }
}

/**
 * The files of STATE_DIR (outbox, command journal, identity): read at boot, written through
 * StateDocuments. A disk that is full or read-only is one clear error per episode, shown by
 * /health and the `mosaic_device_state_dir_writable` gauge, and never ends the device.
 */
@Injectable()
export class StateStore implements OnApplicationShutdown {
  private readonly logger = new Logger('State');
  private readonly documents = new Set<StateDocument>();
  /** The files whose last write failed, with why. */
  private readonly failing = new Map<string, string>();
  private failingSince?: Date;

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly files: StateFileAdapter,
    private readonly clock: Clock,
  ) {}

  /** A file of STATE_DIR as an earlier run left it (undefined when absent, corrupt or over `maxBytes`). */
  read<T>(name: string, maxBytes?: number): T | undefined {
    return this.files.read<T>(join(this.config.stateDir, name), maxBytes);
  }

  document(name: string, serialize: () => string): StateDocument {
    const document = new StateDocument(join(this.config.stateDir, name), serialize, this.files, {
      wrote: (path) => this.wrote(path),
      failed: (path, err) => this.failed(path, err),
    });
    this.documents.add(document);
    return document;
  }

  status(): StateDirStatus {
    const [error] = this.failing.values();
    if (error === undefined) return { writable: true };
    return { writable: false, error, since: (this.failingSince ?? this.clock.now()).toISOString() };
  }

  /** Resolves once every document's saved state is written (or failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.documents].map((d) => d.flushed()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    for (const document of this.documents) document.close();
  }

  private failed(path: string, err: unknown): void {
    const error = (err as Error)?.message ?? String(err);
    if (this.failing.size === 0) {
      this.failingSince = this.clock.now();
      const dir = this.config.stateDir;
      const what = (err as NodeJS.ErrnoException)?.code === 'ENOSPC' ? `STATE_DIR ${dir} is full` : `STATE_DIR ${dir} cannot be written`;
      this.logger.error(
        `${what} (${error}): the device goes on with its outbox and command journal in memory, and writes them once it can; a restart now would lose them`,
      );
    } else {
      this.logger.debug(`${path} not written: ${error}`);
    }
    this.failing.set(path, error);
  }

  private wrote(path: string): void {
    if (!this.failing.delete(path) || this.failing.size > 0) return;
    const seconds = Math.round((this.clock.now().getTime() - (this.failingSince ?? this.clock.now()).getTime()) / 1000);
    this.failingSince = undefined;
    this.logger.log(`STATE_DIR ${this.config.stateDir} is writable again (after ${seconds} s)`);
  }
}
