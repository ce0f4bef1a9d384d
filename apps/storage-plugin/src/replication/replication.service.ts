import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomBytes, randomInt } from 'node:crypto';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { ErrorCode, ProtocolException, replicaPassword } from '@mosaic/protocol';
import { Clock } from '../common/clock';
import { redactUrl } from '../common/redact';
import { FilesAdapter } from '../common/files.adapter';
import { KeyedSerialQueue } from '../common/keyed-serial-queue';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { KeyRegistry } from '../keys/key-registry.service';
import { PluginMetrics } from '../metrics/plugin-metrics';
import { ReplicaKeysService } from './replica-keys.service';
import { Repository, ResticAdapter, ResticError, ResticFailure } from './restic.adapter';
import { snapshotsToForget } from './retention';
import { SnapshotFilesService } from './snapshot-files.service';
import { SnapshotIdsAdapter } from './snapshot-ids.adapter';
import { ReplicaView, SnapshotInfo, claimTags, currentSnapshot, dataTags, decideWriter, replicaView } from './writer-rule';

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

/** What a stage left ready for a move (docs/storage-plugin-api.md §2, `POST /volumes/{name}/stage`). */
export interface StageResult {
  name: string;
  /** The snapshot staged, or null when the replica has no data snapshot (nothing to stage). */
  snapshot: string | null;
  snapshotAt: string | null;
  /** Bytes of the staged snapshot's files. */
  bytes: number;
  /** True when an earlier stage of the same replica was brought up to date rather than made anew. */
  incremental: boolean;
}

/** A replica's snapshot restored ahead of a move, outside any volume, waiting for the create that takes it. */
interface StagedRestore {
  fingerprint: string;
  snapshotId: string;
  dir: string;
}

const MIN_RESTIC_MINOR = 17;

/** Who writes a replica now, as one listing of its snapshots shows (docs/storage-plugin-api.md §1, `GET /volumes/:name/writer`). */
export interface ReplicaWriter {
  /** The holder of the top generation; null for an empty (or missing) replica, or a contested one. */
  writer: string | null;
  /** The writer rule's answer for this target's device. */
  isWriter: boolean;
  contested: boolean;
  generation: number;
}

/** A tool the plugin runs is missing or too old: the plugin does not start (exit 78). */
export class UnsupportedToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedToolError';
  }
}

/** The `--host` of every snapshot: one name for every device, so the writer tag alone tells who wrote. */
const SNAPSHOT_HOST = 'mosaic';
/** Tries of a claim that other devices contend, and the first bound of the random pause between them (doubling). */
const CLAIM_ATTEMPTS = 5;
const CLAIM_PAUSE_MS = 2000;
/**
 * The failures of a restore without restic's lock that are tried again under it: a file read while
 * it was written or removed (`torn-read`, and a pack a prune removed, which restic reports only as a
 * failed load), not those another try cannot mend (no space, the wrong key, a store that does not answer).
 */
const RESTORE_RETRIED: ResticFailure[] = ['torn-read', 'other'];
/** How often a staged replica's snapshot ids are read (without restic) while its move may come, and for how long. */
export const STAGE_WATCH_POLL_MS = 250;
export const STAGE_WATCH_MS = 15 * 60_000;

/**
 * A replica's snapshots as this process last saw them (listed by restic, plus what it wrote itself
 * since), for the key it opened the replica with.
 */
interface KnownReplica {
  url: string;
  fingerprint: string;
  snapshots: SnapshotInfo[];
}

/** A restore made beside a volume's data dir, not yet swapped in; `staged` when it brought a stage up to date. */
interface RestoredAside {
  temp: string;
  staged: boolean;
}

/** How a claim ended: this device holds the top generation (as `snapshots` shows), or another one does, or none yet. */
type ClaimOutcome = { won: true; snapshots: SnapshotInfo[] } | { won: false; writer: string | null };

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
  /** Volumes whose key check (scheduleKeyCheck) waits in their queue. */
  private readonly waitingKeyChecks = new Set<string>();
  private readonly lastPrunes = new Map<string, number>();
  /** Per volume, the generation this process's claim saw itself alone in (the writer rule's `claimedAlone`). */
  private readonly claimedAlone = new Map<string, number>();
  /** Staged restores by volume name (in memory: a restarted plugin discards the staging folder). */
  private readonly staged = new Map<string, StagedRestore>();
  /** Per volume, the replica's snapshots this process knows (see currentSnapshots). */
  private readonly known = new Map<string, KnownReplica>();
  /** The next look at a staged replica's snapshot ids, per volume (watchStage). */
  private readonly stageWatches = new Map<string, NodeJS.Timeout>();
  private closing = false;

  constructor(
    @Inject(PLUGIN_CONFIG) private readonly config: PluginConfig,
    private readonly restic: ResticAdapter,
    private readonly keys: KeyRegistry,
    private readonly files: FilesAdapter,
    private readonly clock: Clock,
    private readonly metrics: PluginMetrics,
    private readonly ids: SnapshotIdsAdapter,
    private readonly replicaKeys: ReplicaKeysService,
    private readonly snapshotFiles: SnapshotFilesService,
  ) {}

  /** The flags the plugin gives restic (--retry-lock) and the summaries it reads need 0.17. */
  async onModuleInit(): Promise<void> {
    const version = await this.restic.version();
    const [major, minor] = version.split('.').map((n) => Number.parseInt(n, 10));
    if (!(major > 0 || minor >= MIN_RESTIC_MINOR)) {
      throw new UnsupportedToolError(`restic ${version} (${this.config.resticBinary}) is too old: the storage plugin needs restic 0.${MIN_RESTIC_MINOR} or newer`);
    }
    this.logger.log(`restic ${version}`);
    // Stages are known to this process only: what an earlier one left is of no use (and may be stale).
    await this.files.removeContents(this.stagingRoot());
  }

  private stagingRoot(): string {
    return join(this.config.dataDir, 'staging');
  }

  /** `<REPLICA_URL>/<name>`: path.join for a local path, `/<name>` appended to a URL prefix. */
  repositoryUrl(name: string): string {
    const base = this.config.replicaUrl;
    if (isAbsolute(base)) return join(base, name);
    if (base.startsWith('local:')) return `local:${join(base.slice('local:'.length), name)}`;
    return `${base}/${name}`;
  }

  /**
   * Makes `dataDir` hold the volume: a new repository when there is no replica, else the replica's
   * current data snapshot restored into it. With `failover`, the writer role is claimed first: the
   * old writer is fenced off, and the restore takes what the claim continued from.
   */
  prepare(target: ReplicaTarget, dataDir: string, options: PrepareOptions): Promise<PrepareResult> {
    return this.queue.run(target.name, async () => {
      const repo = this.repository(target);
      let snapshots = await this.currentSnapshots(repo, target, ErrorCode.STORAGE_UNAVAILABLE);
      if (snapshots === null) {
        await this.restic.init(repo).catch((err) => {
          throw this.failure(ErrorCode.STORAGE_UNAVAILABLE, `Cannot create the replica of ${target.name}`, err);
        });
        this.known.set(target.name, { url: repo.url, fingerprint: target.fingerprint, snapshots: [] });
        this.logger.log(`replica of ${target.name} created`);
        this.replicaKeys.forget(repo.url);
        this.scheduleKeyCheck(target);
        if (!(await this.files.exists(dataDir))) await this.files.makeDir(dataDir);
        return { isWriter: true, replicaWriter: null, restoredFrom: null, snapshotAt: null };
      }
      let view = replicaView(snapshots);
      let decision = decideWriter(view, target.writer, this.claimedAlone.get(target.name));
      const claiming = options.failover && !(decision.allowed && decision.writer === target.writer);
      const hasData = await this.files.exists(dataDir);
      let current = currentSnapshot(view);
      // Local data of a replica another device wrote since is stale: a claim replaces it. The restore
      // begins at once, beside the claim (restic's locks for both are shared): a claim continues from
      // the snapshot the restore takes, and nothing is swapped in unless the claim is won.
      let aside = current !== undefined && (!hasData || claiming) ? this.restoreAside(repo, target, current, dataDir, options.onProgress) : undefined;
      if (claiming) {
        let outcome: ClaimOutcome;
        try {
          outcome = await this.claim(repo, target, dirname(dataDir), snapshots, ErrorCode.STORAGE_UNAVAILABLE);
        } catch (err) {
          await this.dropAside(aside);
          throw err;
        }
        if (!outcome.won) {
          await this.dropAside(aside);
          throw new ProtocolException(
            ErrorCode.STORAGE_UNAVAILABLE,
            outcome.writer
              ? `Cannot take over the replica of ${target.name}: device ${outcome.writer} took it over at the same time.`
              : `Cannot take over the replica of ${target.name}: other devices kept claiming it at the same time; try again.`,
          );
        }
        snapshots = outcome.snapshots;
        view = replicaView(snapshots);
        decision = decideWriter(view, target.writer);
        const claimed = currentSnapshot(view);
        if (claimed?.id !== current?.id) {
          // A claim retried after a rival's continued from what the replica held by then.
          await this.dropAside(aside);
          current = claimed;
          aside = current ? this.restoreAside(repo, target, current, dataDir, options.onProgress) : undefined;
        }
      }
      if (aside && current) {
        const snapshot = current;
        // A restore beside a claim may read an index file that the claim's restic (or the old
        // writer's, still alive) was writing: local and REST stores write in place, and a half-written
        // file reads as invalid data. The claim is over now: such a failure is retried once.
        const restored = claiming
          ? await aside.catch((err: unknown) => {
              this.logger.warn(`restoring ${target.name} beside its claim failed (${(err as Error).message}); restoring it again`);
              return this.restoreAside(repo, target, snapshot, dataDir, options.onProgress);
            })
          : await aside;
        await this.swapIn(restored, dataDir, target.name, snapshot);
      } else if (!hasData) {
        await this.files.makeDir(dataDir);
      }
      if (!decision.allowed) this.logger.warn(`${this.notWriterMessage(view, target)} This device may not replicate it.`);
      return {
        isWriter: decision.allowed,
        replicaWriter: decision.writer,
        restoredFrom: aside && current ? current.id : null,
        snapshotAt: current ? new Date(current.time).toISOString() : null,
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
      const snapshots = await this.currentSnapshots(repo, target, ErrorCode.REPLICATION_FAILED);
      if (snapshots === null) {
        throw new ProtocolException(
          ErrorCode.REPLICATION_FAILED,
          `The replica of ${target.name} is missing at ${this.shownUrl(target.name)}.`,
        );
      }
      let view = replicaView(snapshots);
      this.requireWriter(view, target);
      if (view.generation === 0) {
        // A replica without generations (new, or from an older plugin) is claimed before its first data snapshot.
        const outcome = await this.claim(repo, target, dirname(dataDir), snapshots, ErrorCode.REPLICATION_FAILED);
        if (!outcome.won) {
          if (outcome.writer) throw this.notWriter(target, outcome.writer);
          throw new ProtocolException(ErrorCode.REPLICATION_FAILED, `Other devices kept claiming the replica of ${target.name} at once.`);
        }
        view = replicaView(outcome.snapshots);
      }
      // Taken before the backup starts, whole seconds as restic records it: everything written until then is in the snapshot.
      const at = this.secondsNow();
      const tags = dataTags(view, target.writer);
      const started = performance.now();
      const { snapshotId, dataAdded, totalBytes } = await this.withStaleLockRetry(repo, () =>
        this.restic.backup(repo, dataDir, tags, SNAPSHOT_HOST, at),
      ).catch((err) => {
        throw this.failure(ErrorCode.REPLICATION_FAILED, `The snapshot of ${target.name} failed`, err);
      });
      this.learn(target, repo, { id: snapshotId, time: at.toISOString(), tags, ...(totalBytes === undefined ? {} : { totalBytes }) });
      this.metrics.replicationDuration.observe((performance.now() - started) / 1000);
      this.metrics.replicatedBytes.inc(dataAdded);
      this.logger.log(`snapshot of ${target.name} stored`);
      this.schedulePrune(target);
      this.scheduleKeyCheck(target);
      return { at: at.toISOString() };
    });
    run.then(
      () => this.metrics.replications.inc({ outcome: 'ok' }),
      (err: unknown) => this.metrics.replications.inc({ outcome: err instanceof ProtocolException ? err.code : ErrorCode.REPLICATION_FAILED }),
    );
    this.waitingSnapshots.set(target.name, run);
    return run;
  }

  /**
   * The writer rule for `target.writer`, from one listing of the replica (queued behind the
   * volume's other restic work). A missing replica has no writer: anyone may write it.
   */
  writerOf(target: ReplicaTarget): Promise<ReplicaWriter> {
    return this.queue.run(target.name, async () => {
      const snapshots = await this.currentSnapshots(this.repository(target), target, ErrorCode.STORAGE_UNAVAILABLE);
      if (snapshots === null) return { writer: null, isWriter: true, contested: false, generation: 0 };
      const view = replicaView(snapshots);
      const decision = decideWriter(view, target.writer, this.claimedAlone.get(target.name));
      return { writer: decision.writer, isWriter: decision.allowed, contested: decision.allowed ? false : decision.contested, generation: view.generation };
    });
  }

  /**
   * Stages a move: restores the replica's current data snapshot into a folder of its own while the
   * app still runs elsewhere, without claiming the replica. A later create with `failover` claims
   * it and only brings the staged folder up to date (restic's `--overwrite if-changed --delete`)
   * before swapping it in, so the app's downtime no longer grows with the data. Staging again
   * brings an earlier stage up to date; one staged with another key is made anew.
   */
  stage(target: Pick<ReplicaTarget, 'name' | 'fingerprint'>, onProgress?: (percent: number) => void): Promise<StageResult> {
    return this.queue.run(target.name, async () => {
      const repo = this.repository({ ...target, writer: '' });
      const snapshots = await this.currentSnapshots(repo, { ...target, writer: '' }, ErrorCode.RESTORE_FAILED);
      const current = snapshots === null ? undefined : currentSnapshot(replicaView(snapshots));
      const prior = this.staged.get(target.name);
      this.staged.delete(target.name);
      const incremental = prior !== undefined && prior.fingerprint === target.fingerprint;
      if (!current) {
        if (prior) await this.files.removeTree(prior.dir);
        return { name: target.name, snapshot: null, snapshotAt: null, bytes: 0, incremental: false };
      }
      const dir = join(this.stagingRoot(), target.name);
      if (!incremental) await this.files.removeTree(dir);
      await this.files.makeDir(dir, 0o700);
      let bytes: number;
      try {
        bytes = await this.restoreTree(repo, target.name, current, dir, { incremental, onProgress, purpose: 'staging' });
      } catch (err) {
        // Half a stage is no stage: the next one starts afresh (a full disk leaves nothing behind).
        await this.files.removeTree(dir);
        throw err;
      }
      this.staged.set(target.name, { fingerprint: target.fingerprint, snapshotId: current.id, dir });
      this.watchStage(target, repo);
      this.logger.log(`${target.name} staged from snapshot ${current.id.slice(0, 8)}${incremental ? ' (brought up to date)' : ''}`);
      return { name: target.name, snapshot: current.id, snapshotAt: new Date(current.time).toISOString(), bytes, incremental };
    });
  }

  /**
   * While a stage waits for its move, the replica's snapshot ids are read every STAGE_WATCH_POLL_MS
   * (without restic: only where the store can be read so). Once they change (the source's final
   * snapshot is stored), the replica is listed at once, in the volume's queue, so the failover
   * create that follows finds it known and goes straight to its claim instead of listing first.
   * Ends when the stage is used or dropped, STAGE_WATCH_MS after it was made, or at shutdown.
   */
  private watchStage(target: Pick<ReplicaTarget, 'name' | 'fingerprint'>, repo: Repository): void {
    const { name } = target;
    clearTimeout(this.stageWatches.get(name));
    const until = this.clock.now().getTime() + STAGE_WATCH_MS;
    const look = async (): Promise<boolean> => {
      const staged = this.staged.get(name);
      if (this.closing || staged?.fingerprint !== target.fingerprint || !this.keys.has(target.fingerprint) || this.clock.now().getTime() > until) return false;
      const ids = await this.ids.list(repo.url);
      if (ids === undefined || ids === 'missing') return false;
      const known = this.known.get(name);
      if (known && !sameIds(ids, known.snapshots) && !this.queue.busy(name)) {
        await this.queue.run(name, () => this.currentSnapshots(repo, { ...target, writer: '' }, ErrorCode.RESTORE_FAILED));
      }
      return true;
    };
    const next = () => {
      const timer: NodeJS.Timeout = setTimeout(() => {
        const end = () => {
          if (this.stageWatches.get(name) === timer) this.stageWatches.delete(name);
        };
        void look().then(
          (again) => (again && this.stageWatches.get(name) === timer ? next() : end()),
          (err: Error) => {
            end();
            this.logger.debug(`watching the staged replica of ${name} stopped: ${err.message}`);
          },
        );
      }, STAGE_WATCH_POLL_MS);
      timer.unref();
      this.stageWatches.set(name, timer);
    };
    next();
  }

  /** Removes a volume's staged restore (a move that will not come); false when there was none. */
  discardStage(name: string): Promise<boolean> {
    return this.queue.run(name, async () => {
      const prior = this.staged.get(name);
      this.staged.delete(name);
      if (prior) await this.files.removeTree(prior.dir);
      return prior !== undefined;
    });
  }

  /** The snapshot a volume has staged, if any. */
  stagedSnapshot(name: string): string | undefined {
    return this.staged.get(name)?.snapshotId;
  }

  /**
   * Deletes the replica: a local repository directory goes entirely; on a remote backend every
   * snapshot is forgotten and pruned (restic cannot delete the repository itself there). Only the
   * writer may do it.
   */
  destroy(target: ReplicaTarget): Promise<void> {
    return this.queue.run(target.name, async () => {
      const repo = this.repository(target);
      const snapshots = await this.currentSnapshots(repo, target, ErrorCode.STORAGE_UNAVAILABLE);
      if (snapshots === null) return;
      this.known.delete(target.name);
      this.replicaKeys.forget(repo.url);
      const view = replicaView(snapshots);
      if (!decideWriter(view, target.writer).allowed) {
        throw new ProtocolException(ErrorCode.NOT_WRITER, `${this.notWriterMessage(view, target)} It is not this device's to delete.`);
      }
      const url = this.repositoryUrl(target.name);
      if (isAbsolute(url) || url.startsWith('local:')) {
        await this.files.removeTree(url.replace(/^local:/, ''));
      } else if (snapshots.length) {
        await this.withStaleLockRetry(repo, () =>
          this.restic.forgetSnapshots(
            repo,
            snapshots.map((s) => s.id),
            { prune: true },
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
    for (const timer of this.stageWatches.values()) clearTimeout(timer);
    this.stageWatches.clear();
    await this.queue.drain();
  }

  private repository(target: ReplicaTarget): Repository {
    const secret = this.keys.secretFor(target.fingerprint);
    if (!secret) {
      throw new ProtocolException(ErrorCode.KEYS_MISSING, `The key ${target.fingerprint} of volume ${target.name} is not registered.`);
    }
    const url = this.repositoryUrl(target.name);
    const keyHint = this.replicaKeys.hint(url);
    return { url, password: replicaPassword(secret, target.name), ...(keyHint && { keyHint }) };
  }

  /**
   * The replica's snapshots, or null when no repository exists there. Answered from what this
   * process knows when the store's snapshot ids, read without restic (SnapshotIdsAdapter), are
   * exactly the known ones: an id is the hash of its snapshot's file, so nothing was added or
   * removed since, by this device or any other. When they differ, the snapshots this process does
   * not know are read from their files (SnapshotFilesService), still without restic. Otherwise (and
   * for stores that cannot be read so) restic lists them, which opens the repository's key.
   */
  private async currentSnapshots(repo: Repository, target: ReplicaTarget, code: ErrorCode): Promise<SnapshotInfo[] | null> {
    const ids = await this.ids.list(repo.url);
    if (ids === 'missing') {
      this.known.delete(target.name);
      return null;
    }
    const known = this.known.get(target.name);
    const held = known && known.url === repo.url && known.fingerprint === target.fingerprint ? known.snapshots : undefined;
    if (ids && held && sameIds(ids, held)) {
      this.metrics.replicaListings.inc({ source: 'known' });
      return held;
    }
    if (ids) {
      const kept = (held ?? []).filter((s) => ids.has(s.id));
      const added = [...ids].filter((id) => !kept.some((s) => s.id === id));
      const read = await this.snapshotFiles.read(repo, added);
      if (read) {
        const snapshots = [...kept, ...read];
        this.metrics.replicaListings.inc({ source: 'store' });
        this.known.set(target.name, { url: repo.url, fingerprint: target.fingerprint, snapshots });
        return snapshots;
      }
    }
    const listed = await this.listSnapshots(repo, target, code);
    this.metrics.replicaListings.inc({ source: 'restic' });
    if (listed === null) this.known.delete(target.name);
    else this.known.set(target.name, { url: repo.url, fingerprint: target.fingerprint, snapshots: listed });
    return listed;
  }

  /** A snapshot this process stored: known from now on (when the rest of the replica is). */
  private learn(target: ReplicaTarget, repo: Repository, snapshot: SnapshotInfo): void {
    const known = this.known.get(target.name);
    if (known && known.url === repo.url && known.fingerprint === target.fingerprint) {
      known.snapshots = [...known.snapshots, snapshot];
    } else {
      this.known.delete(target.name);
    }
  }

  /** Snapshots this process forgot. */
  private unlearn(name: string, ids: string[]): void {
    const known = this.known.get(name);
    if (known) known.snapshots = known.snapshots.filter((s) => !ids.includes(s.id));
  }

  /** What restic lists: the replica's snapshots, or null when no repository exists there. */
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

  /**
   * Restores the snapshot into a folder beside `dataDir` (or, after a stage with the same key,
   * brings the staged folder up to date), checked: the folder that holds it as `data`, for swapIn.
   * A failed restore leaves nothing. The promise is handled at once: its failure is thrown where
   * it is awaited.
   */
  private restoreAside(
    repo: Repository,
    target: ReplicaTarget,
    snapshot: SnapshotInfo,
    dataDir: string,
    onProgress?: (percent: number) => void,
  ): Promise<RestoredAside> {
    const restored = (async () => {
      const staged = this.staged.get(target.name);
      this.staged.delete(target.name);
      const usable = staged !== undefined && staged.fingerprint === target.fingerprint;
      if (staged && !usable) await this.files.removeTree(staged.dir);
      const temp = usable ? staged.dir : join(dirname(dataDir), `.restore-${randomBytes(6).toString('hex')}`);
      try {
        if (!usable) await this.files.makeDir(temp, 0o755);
        await this.restoreTree(repo, target.name, snapshot, temp, { incremental: usable, onProgress, purpose: 'restore' });
        return { temp, staged: usable };
      } catch (err) {
        await this.files.removeTree(temp);
        throw err;
      }
    })();
    restored.catch(() => undefined);
    return restored;
  }

  /** Makes `dataDir` hold what restoreAside restored: swapped in, the old data removed. */
  private async swapIn(aside: RestoredAside, dataDir: string, name: string, snapshot: SnapshotInfo): Promise<void> {
    const parent = dirname(dataDir);
    try {
      const restored = join(aside.temp, basename(dataDir));
      if (await this.files.exists(dataDir)) {
        const old = join(parent, `.replaced-${randomBytes(6).toString('hex')}`);
        await this.files.rename(dataDir, old);
        await this.files.rename(restored, dataDir);
        await this.files.removeTree(old);
      } else {
        await this.files.rename(restored, dataDir);
      }
      this.logger.log(`${name} restored from snapshot ${snapshot.id.slice(0, 8)}${aside.staged ? ' (staged: only what changed)' : ''}`);
    } finally {
      await this.files.removeTree(aside.temp);
    }
  }

  /** A restore aside that will not be swapped in: waited for (it cannot be cut short), then removed. */
  private async dropAside(aside: Promise<RestoredAside> | undefined): Promise<void> {
    const done = await aside?.catch(() => undefined);
    if (done) await this.files.removeTree(done.temp);
  }

  /**
   * restic restores `snapshot` into `dir`, which then holds the volume's folder as `dir/data`: with
   * progress, a space check (not for an incremental one: it writes what changed), metrics, and a
   * refusal of a snapshot whose folder is missing or is not a real folder. The bytes of its files.
   */
  private async restoreTree(
    repo: Repository,
    name: string,
    snapshot: SnapshotInfo,
    dir: string,
    options: { incremental: boolean; onProgress?: (percent: number) => void; purpose: 'restore' | 'staging' },
  ): Promise<number> {
    try {
      const total = snapshot.totalBytes ?? (await this.withStaleLockRetry(repo, () => this.restic.restoreSize(repo, snapshot.id)));
      const available = await this.files.availableBytes(dir);
      if (!options.incremental && total > available) {
        throw new ProtocolException(ErrorCode.RESTORE_FAILED, `Restoring ${name} needs ${total} bytes but only ${available} are free.`);
      }
      let last = -1;
      const report = (percent: number) => {
        if (percent > last) options.onProgress?.((last = percent));
      };
      report(0);
      // restic's own progress: a walk of the restored tree would cost more than the restore on many files.
      const onProgress = options.onProgress && !options.incremental ? (fraction: number) => report(Math.min(99, Math.floor(fraction * 100))) : undefined;
      const restore = (unlocked: boolean) =>
        this.withStaleLockRetry(repo, () => this.restic.restore(repo, snapshot.id, dir, { incremental: options.incremental, unlocked, onProgress }));
      // A restore only reads, so it first runs without restic's lock (ResticAdapter.restore). Then
      // it may meet the writer's prune, which removes packs the restore's index still names, or (as
      // under a lock) an index file being written: restic checks every file it reads and fails.
      // Such a failure is tried once more under the lock, which waits for a prune to end.
      await restore(true).catch((err: unknown) => {
        if (!(err instanceof ResticError && RESTORE_RETRIED.includes(err.kind))) throw err;
        this.logger.warn(`${options.purpose === 'staging' ? 'staging' : 'restoring'} ${name} failed (${err.message}); once more, under restic's lock`);
        return restore(false);
      });
      // A snapshot holds the data folder itself (see ResticAdapter.backup): it comes back as dir/data.
      const restored = join(dir, 'data');
      if (!(await this.files.exists(restored))) {
        // restic restores even an empty folder; a snapshot without it is not one of ours.
        throw new ProtocolException(ErrorCode.RESTORE_FAILED, `Snapshot ${snapshot.id.slice(0, 8)} of ${name} holds no data folder.`);
      }
      if (!(await this.files.isFolder(restored))) {
        // A symlink renamed into place would be the mount point: Docker would mount wherever it leads.
        throw new ProtocolException(
          ErrorCode.RESTORE_FAILED,
          `Snapshot ${snapshot.id.slice(0, 8)} of ${name} holds a data folder that is not a folder (a symlink or a file); it is not restored.`,
        );
      }
      report(100);
      this.metrics.restores.inc({ outcome: 'ok' });
      this.metrics.restoredBytes.inc(total);
      return total;
    } catch (err) {
      this.metrics.restores.inc({ outcome: 'failed' });
      const what = options.purpose === 'staging' ? `Staging ${name}` : `Restoring ${name}`;
      if (err instanceof ResticError && err.kind === 'no-space') {
        throw new ProtocolException(ErrorCode.RESTORE_FAILED, `The disk filled up while ${options.purpose === 'staging' ? 'staging' : 'restoring'} ${name}; nothing was kept.`);
      }
      throw this.failure(ErrorCode.RESTORE_FAILED, `${what} failed`, err);
    }
  }

  /**
   * Claims the replica for this device (docs/storage-plugin-api.md §3): a claim of the next
   * generation, then a second listing. Alone at the top, this device writes. Beside a rival claim of
   * the same generation it withdraws its own and, after a random pause, tries again, unless by then
   * another device holds that generation (the one that saw itself alone): then it backs off.
   */
  private async claim(
    repo: Repository,
    target: ReplicaTarget,
    scratchParent: string,
    listed: SnapshotInfo[],
    code: ErrorCode,
  ): Promise<ClaimOutcome> {
    let snapshots = listed;
    let contended: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const before = replicaView(snapshots);
      if (contended !== undefined && before.generation >= contended && before.writer !== null && before.writer !== target.writer) {
        return { won: false, writer: before.writer };
      }
      const tags = claimTags(before, target.writer);
      const id = await this.writeClaim(repo, target, scratchParent, tags, code);
      this.learn(target, repo, { id, time: this.secondsNow().toISOString(), tags });
      // Read again: a rival's claim stored meantime shows as an id this process does not know.
      snapshots = (await this.currentSnapshots(repo, target, code)) ?? [];
      const after = replicaView(snapshots);
      const generation = before.generation + 1;
      if (after.generation === generation && after.writer === target.writer) {
        this.logger.log(`writer of ${target.name} is now ${target.writer} (generation ${generation})`);
        this.claimedAlone.set(target.name, generation);
        return { won: true, snapshots };
      }
      // A claim above ours (another device's, made after ours): ours is superseded.
      if (after.generation !== generation) return { won: false, writer: after.writer };
      await this.withStaleLockRetry(repo, () => this.restic.forgetSnapshots(repo, [id], { prune: false })).catch((err) => {
        throw this.failure(code, `Cannot withdraw the contested claim of ${target.name}`, err);
      });
      this.unlearn(target.name, [id]);
      const rivals = after.contestedBy?.join(', ') ?? after.writer;
      this.logger.warn(`claim of ${target.name} (generation ${generation}) contended by devices ${rivals}: withdrawn`);
      // Another device already wrote data in the generation: it holds it.
      if (after.writer !== null) return { won: false, writer: after.writer };
      if (attempt === CLAIM_ATTEMPTS) return { won: false, writer: null };
      contended = generation;
      await this.clock.wait(randomInt(CLAIM_PAUSE_MS * 2 ** (attempt - 1)));
      snapshots = (await this.currentSnapshots(repo, target, code)) ?? [];
    }
  }

  /** A tiny snapshot with the claim's tags (a folder with one file, `CLAIM`); its id. */
  private async writeClaim(
    repo: Repository,
    target: ReplicaTarget,
    scratchParent: string,
    tags: string[],
    code: ErrorCode,
  ): Promise<string> {
    const scratch = join(scratchParent, `.claim-${randomBytes(6).toString('hex')}`);
    try {
      await this.files.makeDir(scratch, 0o700);
      await this.files.writeFile(join(scratch, 'CLAIM'), `writer ${target.writer}\n`);
      const { snapshotId } = await this.withStaleLockRetry(repo, () => this.restic.backup(repo, scratch, tags, SNAPSHOT_HOST, this.secondsNow()));
      return snapshotId;
    } catch (err) {
      throw this.failure(code, `Cannot take over the replica of ${target.name}`, err);
    } finally {
      await this.files.removeTree(scratch);
    }
  }

  /** Refuses a device that may not write the replica: NOT_WRITER, or REPLICATION_FAILED (retried) while claims contend. */
  private requireWriter(view: ReplicaView, target: ReplicaTarget): void {
    const decision = decideWriter(view, target.writer, this.claimedAlone.get(target.name));
    if (decision.allowed) return;
    if (decision.contested) throw new ProtocolException(ErrorCode.REPLICATION_FAILED, this.notWriterMessage(view, target));
    throw this.notWriter(target, decision.writer!);
  }

  private notWriter(target: ReplicaTarget, writer: string): ProtocolException {
    return new ProtocolException(ErrorCode.NOT_WRITER, this.notWriterMessage({ writer, contestedBy: null }, target), { writer });
  }

  private notWriterMessage(view: Pick<ReplicaView, 'writer' | 'contestedBy'>, target: ReplicaTarget): string {
    if (view.contestedBy) {
      return `The replica of ${target.name} is claimed by devices ${view.contestedBy.join(', ')} at once; none writes it until one backs off.`;
    }
    return `The replica of ${target.name} is now written by device ${view.writer}, not by ${target.writer}.`;
  }

  /**
   * Retention after a snapshot, in the background and in the volume's queue (at most one waits),
   * and at most once per RETENTION_PRUNE_INTERVAL_S per volume: a prune reads the whole index and
   * locks the repository exclusively, too much after every snapshot of a large replica. Mosaic
   * picks the snapshots (retention.ts), from a listing made right before, and only while it writes.
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
        this.lastPrunes.set(target.name, this.clock.now().getTime());
        const snapshots = await this.currentSnapshots(repo, target, ErrorCode.REPLICATION_FAILED);
        if (snapshots === null || !decideWriter(snapshots, target.writer).allowed) return;
        const policy = { keepLast: this.config.retentionKeepLast, keepDaily: this.config.retentionKeepDaily };
        const forget = snapshotsToForget(snapshots, policy);
        if (!forget.length) return;
        await this.withStaleLockRetry(repo, () => this.restic.forgetSnapshots(repo, forget, { prune: true }));
        this.unlearn(target.name, forget);
        this.logger.debug(`replica of ${target.name} pruned: ${forget.length} snapshot(s) forgotten`);
      })
      .catch((err) => this.logger.warn(`pruning the replica of ${target.name} failed: ${(err as Error).message}`));
  }

  /**
   * After the replica was created or written: its cheap key (ReplicaKeysService), in the background
   * and in the volume's queue (at most one waits), until this process has it (or a failure waits
   * out its retry time). For an existing replica this reads restic's calibrated key once (scrypt,
   * about as long as one restic start), a cost each replica pays once.
   */
  private scheduleKeyCheck(target: ReplicaTarget): void {
    const url = this.repositoryUrl(target.name);
    if (!this.replicaKeys.due(url) || this.waitingKeyChecks.has(target.name)) return;
    this.waitingKeyChecks.add(target.name);
    this.queue
      .run(target.name, async () => {
        this.waitingKeyChecks.delete(target.name);
        if (this.closing || !this.keys.has(target.fingerprint) || !this.replicaKeys.due(url)) return;
        await this.replicaKeys.ensureCheap(this.repository(target), target.name);
      })
      .catch((err) => this.logger.warn(`checking the key of ${target.name}'s replica failed: ${(err as Error).message}`));
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

  /** The plugin's clock to the second: the time restic records for a snapshot (`backup --time`). */
  private secondsNow(): Date {
    return new Date(Math.floor(this.clock.now().getTime() / 1000) * 1000);
  }

  private failure(code: ErrorCode, what: string, err: unknown): ProtocolException {
    if (err instanceof ProtocolException) return err;
    return new ProtocolException(code, `${what}: ${(err as Error).message}`);
  }

  private shownUrl(name: string): string {
    return redactUrl(this.repositoryUrl(name));
  }
}

/** Whether `ids` are exactly the ids of `snapshots`. */
function sameIds(ids: ReadonlySet<string>, snapshots: SnapshotInfo[]): boolean {
  return ids.size === snapshots.length && snapshots.every((s) => ids.has(s.id));
}
