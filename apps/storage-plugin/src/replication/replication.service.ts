import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { ErrorCode, ProtocolException, replicaPassword } from '@mosaic/protocol';
import { Clock } from '../common/clock';
import { redactUrl } from '../common/redact';
import { FilesAdapter } from '../common/files.adapter';
import { KeyedSerialQueue } from '../common/keyed-serial-queue';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { KeyRegistry } from '../keys/key-registry.service';
import { PluginMetrics } from '../metrics/plugin-metrics';
import { Repository, ResticAdapter, ResticError } from './restic.adapter';
import { CLAIM_TAG, SNAPSHOT_TAG, SnapshotInfo, decideWriter, newestDataSnapshot, writerTag } from './writer-rule';

/** Which replica, opened with which key, written by which device. */
export interface ReplicaTarget {
  name: string;
  fingerprint: string;
  /** The device id this plugin writes for. */
  writer: string;
}

export interface PrepareOptions {
  /** Take the writer role over from whichever device holds it (a claim snapshot). */
  failover: boolean;
  onProgress?: (percent: number) => void;
}

export interface PrepareResult {
  isWriter: boolean;
  /** The replica's writer afterwards (null for an empty replica). */
  replicaWriter: string | null;
  /** The snapshot restored into the data dir, or null when nothing was restored. */
  restoredFrom: string | null;
  /** When the replica's newest data snapshot was taken (ISO), or null without one. */
  snapshotAt: string | null;
}

const MIN_RESTIC_MINOR = 17;

/** A tool the plugin runs is missing or too old: the plugin does not start (exit 78). */
export class UnsupportedToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedToolError';
  }
}

/** The `--host` of every snapshot: one name for every device, so the writer tag alone tells who wrote. */
const SNAPSHOT_HOST = 'mosaic';
const PROGRESS_POLL_MS = 250;

/**
 * Everything done to a volume's replica, one restic operation at a time per volume: creating the
 * repository, restoring, claiming the writer role, snapshots under the writer rule, pruning.
 */
@Injectable()
export class ReplicationService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Replication');
  private readonly queue = new KeyedSerialQueue();
  /** A snapshot request not yet started: later requests join it instead of queueing another. */
  private readonly waitingSnapshots = new Map<string, Promise<{ at: string }>>();
  private readonly waitingPrunes = new Set<string>();
  private readonly lastPrunes = new Map<string, number>();
  private closing = false;

  constructor(
    @Inject(PLUGIN_CONFIG) private readonly config: PluginConfig,
    private readonly restic: ResticAdapter,
    private readonly keys: KeyRegistry,
    private readonly files: FilesAdapter,
    private readonly clock: Clock,
    private readonly metrics: PluginMetrics,
  ) {}

  /** The flags the plugin gives restic (--retry-lock) and the summaries it reads need 0.17. */
  async onModuleInit(): Promise<void> {
    const version = await this.restic.version();
    const [major, minor] = version.split('.').map((n) => Number.parseInt(n, 10));
    if (!(major > 0 || minor >= MIN_RESTIC_MINOR)) {
      throw new UnsupportedToolError(`restic ${version} (${this.config.resticBinary}) is too old: the storage plugin needs restic 0.${MIN_RESTIC_MINOR} or newer`);
    }
    this.logger.log(`restic ${version}`);
  }

  /** `<REPLICA_URL>/<name>`: path.join for a local path, `/<name>` appended to a URL prefix. */
  repositoryUrl(name: string): string {
    const base = this.config.replicaUrl;
    if (isAbsolute(base)) return join(base, name);
    if (base.startsWith('local:')) return `local:${join(base.slice('local:'.length), name)}`;
    return `${base}/${name}`;
  }

  /**
   * Makes `dataDir` hold the volume: a new repository when there is no replica, else the newest
   * data snapshot restored into it. With `failover`, the writer role is claimed first, so the old
   * writer cannot slip in a snapshot that the restore would miss.
   */
  prepare(target: ReplicaTarget, dataDir: string, options: PrepareOptions): Promise<PrepareResult> {
    return this.queue.run(target.name, async () => {
      const repo = this.repository(target);
      let snapshots = await this.listSnapshots(repo, target, ErrorCode.STORAGE_UNAVAILABLE);
      if (snapshots === null) {
        await this.restic.init(repo).catch((err) => {
          throw this.failure(ErrorCode.STORAGE_UNAVAILABLE, `Cannot create the replica of ${target.name}`, err);
        });
        this.logger.log(`replica of ${target.name} created`);
        if (!(await this.files.exists(dataDir))) await this.files.makeDir(dataDir);
        return { isWriter: true, replicaWriter: null, restoredFrom: null, snapshotAt: null };
      }
      let decision = decideWriter(snapshots, target.writer);
      const claiming = options.failover && !(decision.allowed && decision.writer === target.writer);
      if (claiming) {
        await this.claim(repo, target, dirname(dataDir));
        snapshots = (await this.listSnapshots(repo, target, ErrorCode.STORAGE_UNAVAILABLE)) ?? [];
        decision = decideWriter(snapshots, target.writer);
      }
      const newest = newestDataSnapshot(snapshots);
      const hasData = await this.files.exists(dataDir);
      // Local data of a replica another device wrote since is stale: a claim replaces it.
      const restoring = newest !== undefined && (!hasData || claiming);
      if (restoring) {
        await this.restoreInto(repo, target, newest, dataDir, options.onProgress);
      } else if (!hasData) {
        await this.files.makeDir(dataDir);
      }
      if (!decision.allowed) {
        this.logger.warn(`replica of ${target.name} is written by device ${decision.writer}; this device may not replicate it`);
      }
      return {
        isWriter: decision.allowed,
        replicaWriter: decision.writer,
        restoredFrom: restoring ? newest.id : null,
        snapshotAt: newest ? new Date(newest.time).toISOString() : null,
      };
    });
  }

  /**
   * A snapshot of `dataDir` now, under the writer rule. A request made while another one waits to
   * start joins it; one made while a snapshot runs gets the next one (its data may be newer).
   */
  snapshot(target: ReplicaTarget, dataDir: string): Promise<{ at: string }> {
    const waiting = this.waitingSnapshots.get(target.name);
    if (waiting) return waiting;
    const run = this.queue.run(target.name, async () => {
      this.waitingSnapshots.delete(target.name);
      const repo = this.repository(target);
      const snapshots = await this.listSnapshots(repo, target, ErrorCode.REPLICATION_FAILED);
      if (snapshots === null) {
        throw new ProtocolException(
          ErrorCode.REPLICATION_FAILED,
          `The replica of ${target.name} is missing at ${this.shownUrl(target.name)}.`,
        );
      }
      const decision = decideWriter(snapshots, target.writer);
      if (!decision.allowed) {
        throw new ProtocolException(
          ErrorCode.NOT_WRITER,
          `The replica of ${target.name} is now written by device ${decision.writer}, not by ${target.writer}.`,
          { writer: decision.writer },
        );
      }
      // Taken before the backup starts: everything written until then is in the snapshot.
      const at = this.clock.now().toISOString();
      const started = performance.now();
      const { dataAdded } = await this.withStaleLockRetry(repo, () =>
        this.restic.backup(repo, dataDir, [SNAPSHOT_TAG, writerTag(target.writer)], SNAPSHOT_HOST),
      ).catch((err) => {
        throw this.failure(ErrorCode.REPLICATION_FAILED, `The snapshot of ${target.name} failed`, err);
      });
      this.metrics.replicationDuration.observe((performance.now() - started) / 1000);
      this.metrics.replicatedBytes.inc(dataAdded);
      this.logger.log(`snapshot of ${target.name} stored`);
      this.schedulePrune(target);
      return { at };
    });
    run.then(
      () => this.metrics.replications.inc({ outcome: 'ok' }),
      (err: unknown) => this.metrics.replications.inc({ outcome: err instanceof ProtocolException ? err.code : ErrorCode.REPLICATION_FAILED }),
    );
    this.waitingSnapshots.set(target.name, run);
    return run;
  }

  /**
   * Deletes the replica: a local repository directory goes entirely; on a remote backend every
   * snapshot is forgotten and pruned (restic cannot delete the repository itself there). Only the
   * writer may do it.
   */
  destroy(target: ReplicaTarget): Promise<void> {
    return this.queue.run(target.name, async () => {
      const repo = this.repository(target);
      const snapshots = await this.listSnapshots(repo, target, ErrorCode.STORAGE_UNAVAILABLE);
      if (snapshots === null) return;
      const decision = decideWriter(snapshots, target.writer);
      if (!decision.allowed) {
        throw new ProtocolException(
          ErrorCode.NOT_WRITER,
          `The replica of ${target.name} is written by device ${decision.writer}; it is not this device's to delete.`,
        );
      }
      const url = this.repositoryUrl(target.name);
      if (isAbsolute(url) || url.startsWith('local:')) {
        await this.files.removeTree(url.replace(/^local:/, ''));
      } else if (snapshots.length) {
        await this.withStaleLockRetry(repo, () =>
          this.restic.forgetSnapshots(
            repo,
            snapshots.map((s) => s.id),
          ),
        ).catch((err) => {
          throw this.failure(ErrorCode.STORAGE_UNAVAILABLE, `Cannot delete the replica of ${target.name}`, err);
        });
      }
      this.logger.log(`replica of ${target.name} deleted`);
    });
  }

  /** Resolves once every restic operation queued so far for the volume has ended. */
  settle(name: string): Promise<void> {
    return this.queue.run(name, async () => undefined);
  }

  /** True while a restic operation on the volume runs or waits. */
  busy(name: string): boolean {
    return this.queue.busy(name);
  }

  /** Graceful shutdown: queued prunes are skipped, running work is waited for. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.queue.drain();
  }

  private repository(target: ReplicaTarget): Repository {
    const secret = this.keys.secretFor(target.fingerprint);
    if (!secret) {
      throw new ProtocolException(ErrorCode.KEYS_MISSING, `The key ${target.fingerprint} of volume ${target.name} is not registered.`);
    }
    return { url: this.repositoryUrl(target.name), password: replicaPassword(secret, target.name) };
  }

  /** The replica's snapshots, or null when no repository exists there. */
  private async listSnapshots(repo: Repository, target: ReplicaTarget, code: ErrorCode): Promise<SnapshotInfo[] | null> {
    try {
      return await this.withStaleLockRetry(repo, () => this.restic.snapshots(repo));
    } catch (err) {
      if (err instanceof ResticError && err.kind === 'missing-repository') return null;
      if (err instanceof ResticError && err.kind === 'wrong-password') {
        throw new ProtocolException(
          code,
          `The replica of ${target.name} does not open with key ${target.fingerprint}: it belongs to another key.`,
        );
      }
      throw this.failure(code, `The replica of ${target.name} at ${this.shownUrl(target.name)} cannot be read`, err);
    }
  }

  private async restoreInto(
    repo: Repository,
    target: ReplicaTarget,
    snapshot: SnapshotInfo,
    dataDir: string,
    onProgress?: (percent: number) => void,
  ) {
    const parent = dirname(dataDir);
    const temp = join(parent, `.restore-${randomBytes(6).toString('hex')}`);
    let timer: NodeJS.Timeout | undefined;
    try {
      const total = snapshot.totalBytes ?? (await this.withStaleLockRetry(repo, () => this.restic.restoreSize(repo, snapshot.id)));
      const available = await this.files.availableBytes(parent);
      if (total > available) {
        throw new ProtocolException(
          ErrorCode.RESTORE_FAILED,
          `Restoring ${target.name} needs ${total} bytes but only ${available} are free.`,
        );
      }
      await this.files.makeDir(temp, 0o755);
      let last = -1;
      const report = (percent: number) => {
        if (percent > last) onProgress?.((last = percent));
      };
      report(0);
      if (onProgress && total > 0) {
        timer = setInterval(() => {
          void this.files.directorySize(temp).then((done) => report(Math.min(99, Math.floor((done / total) * 100))));
        }, PROGRESS_POLL_MS);
      }
      await this.withStaleLockRetry(repo, () => this.restic.restore(repo, snapshot.id, temp));
      clearInterval(timer);
      // A snapshot holds the data folder itself (see ResticAdapter.backup): it comes back as temp/data.
      const restored = join(temp, basename(dataDir));
      if (!(await this.files.exists(restored))) {
        // restic restores even an empty folder; a snapshot without it is not one of ours.
        throw new ProtocolException(
          ErrorCode.RESTORE_FAILED,
          `Snapshot ${snapshot.id.slice(0, 8)} of ${target.name} holds no ${basename(dataDir)} folder.`,
        );
      }
      if (await this.files.exists(dataDir)) {
        const old = join(parent, `.replaced-${randomBytes(6).toString('hex')}`);
        await this.files.rename(dataDir, old);
        await this.files.rename(restored, dataDir);
        await this.files.removeTree(old);
      } else {
        await this.files.rename(restored, dataDir);
      }
      await this.files.removeTree(temp);
      report(100);
      this.metrics.restores.inc({ outcome: 'ok' });
      this.metrics.restoredBytes.inc(total);
      this.logger.log(`${target.name} restored from snapshot ${snapshot.id.slice(0, 8)}`);
    } catch (err) {
      clearInterval(timer);
      this.metrics.restores.inc({ outcome: 'failed' });
      await this.files.removeTree(temp);
      if (err instanceof ResticError && err.kind === 'no-space') {
        throw new ProtocolException(ErrorCode.RESTORE_FAILED, `The disk filled up while restoring ${target.name}; nothing was kept.`);
      }
      throw this.failure(ErrorCode.RESTORE_FAILED, `Restoring ${target.name} failed`, err);
    }
  }

  /** A tiny snapshot that names this device as the writer from now on. */
  private async claim(repo: Repository, target: ReplicaTarget, scratchParent: string): Promise<void> {
    const scratch = join(scratchParent, `.claim-${randomBytes(6).toString('hex')}`);
    try {
      await this.files.makeDir(scratch, 0o700);
      await this.files.writeFile(join(scratch, 'CLAIM'), `writer ${target.writer}\n`);
      await this.withStaleLockRetry(repo, () => this.restic.backup(repo, scratch, [CLAIM_TAG, writerTag(target.writer)], SNAPSHOT_HOST));
      this.logger.log(`writer of ${target.name} is now ${target.writer}`);
    } catch (err) {
      throw this.failure(ErrorCode.STORAGE_UNAVAILABLE, `Cannot take over the replica of ${target.name}`, err);
    } finally {
      await this.files.removeTree(scratch);
    }
  }

  /**
   * forget --prune after a snapshot, in the background and in the volume's queue (at most one
   * waits), and at most once per RETENTION_PRUNE_INTERVAL_S per volume: a prune reads the whole
   * index and locks the repository exclusively, too much after every snapshot of a large replica.
   */
  private schedulePrune(target: ReplicaTarget): void {
    if (this.waitingPrunes.has(target.name)) return;
    const last = this.lastPrunes.get(target.name);
    if (last !== undefined && this.clock.now().getTime() - last < this.config.pruneIntervalS * 1000) return;
    this.waitingPrunes.add(target.name);
    this.queue
      .run(target.name, async () => {
        this.waitingPrunes.delete(target.name);
        if (this.closing || !this.keys.has(target.fingerprint)) return;
        const repo = this.repository(target);
        const policy = { keepLast: this.config.retentionKeepLast, keepDaily: this.config.retentionKeepDaily, tag: SNAPSHOT_TAG };
        this.lastPrunes.set(target.name, this.clock.now().getTime());
        await this.withStaleLockRetry(repo, () => this.restic.forget(repo, policy));
        this.logger.debug(`replica of ${target.name} pruned`);
      })
      .catch((err) => this.logger.warn(`pruning the replica of ${target.name} failed: ${(err as Error).message}`));
  }

  /**
   * restic waits for a live lock itself (--retry-lock). A stale one (left by a killed restic) it
   * never lets go of: `unlock` removes only those, and the operation is tried once more.
   */
  private async withStaleLockRetry<T>(repo: Repository, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      if (!(err instanceof ResticError && err.kind === 'locked')) throw err;
      await this.restic.unlock(repo).catch(() => undefined);
      return operation();
    }
  }

  private failure(code: ErrorCode, what: string, err: unknown): ProtocolException {
    if (err instanceof ProtocolException) return err;
    return new ProtocolException(code, `${what}: ${(err as Error).message}`);
  }

  private shownUrl(name: string): string {
    return redactUrl(this.repositoryUrl(name));
  }
}
