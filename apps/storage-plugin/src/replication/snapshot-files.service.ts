import { Injectable, Logger } from '@nestjs/common';
import { redactUrl } from '../common/redact';
import { ReplicaKeysService } from './replica-keys.service';
import { SnapshotFileError, decodeSnapshotFile } from './restic-snapshot-file';
import { Repository } from './restic.adapter';
import { SnapshotIdsAdapter } from './snapshot-ids.adapter';
import { SnapshotInfo } from './writer-rule';

/** More new snapshots than this at once (a first look at a long-lived replica): restic lists them. */
export const MAX_SNAPSHOT_FILES = 64;
/** How many snapshot files are read at once. */
const READS_AT_ONCE = 8;
/** The whole read's deadline (a restic listing takes ~0.2–0.5 s): a slower store is left to restic. */
export const SNAPSHOT_FILES_BUDGET_MS = 2_000;

/**
 * A replica's snapshots read straight from its store, without a restic start (which opens the
 * repository's key and index, ~0.2–0.5 s): each snapshot file fetched by id (SnapshotIdsAdapter.file)
 * and opened with the master key (ReplicaKeysService.masterKey), checked as restic checks it (its
 * bytes hash to its id, the key's MAC matches). Where anything is in doubt (a store it cannot read,
 * no cheap key, a file gone, torn or sealed with another key, or no answer within
 * SNAPSHOT_FILES_BUDGET_MS) it answers undefined and restic lists.
 */
@Injectable()
export class SnapshotFilesService {
  private readonly logger = new Logger('SnapshotFiles');

  constructor(
    private readonly ids: SnapshotIdsAdapter,
    private readonly keys: ReplicaKeysService,
  ) {}

  /**
   * The snapshots stored under `ids`, or undefined when any of them cannot be read so. The master
   * key is needed even for no ids: that the password opens the repository is what restic's
   * listing would have checked.
   */
  async read(repo: Repository, ids: readonly string[], budgetMs = SNAPSHOT_FILES_BUDGET_MS): Promise<SnapshotInfo[] | undefined> {
    if (ids.length > MAX_SNAPSHOT_FILES) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.logger.debug(`the snapshot files of ${redactUrl(repo.url)} took longer than ${budgetMs} ms; restic lists the replica`);
        resolve(undefined);
      }, budgetMs);
    });
    try {
      return await Promise.race([this.readAll(repo, ids), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Never throws: what it cannot read is undefined. */
  private async readAll(repo: Repository, ids: readonly string[]): Promise<SnapshotInfo[] | undefined> {
    const key = await this.keys.masterKey(repo);
    if (!key) return undefined;
    const read: SnapshotInfo[] = [];
    try {
      for (let from = 0; from < ids.length; from += READS_AT_ONCE) {
        const batch = await Promise.all(
          ids.slice(from, from + READS_AT_ONCE).map(async (id) => {
            const bytes = await this.ids.file(repo.url, id);
            return bytes && decodeSnapshotFile(key, id, bytes);
          }),
        );
        for (const snapshot of batch) {
          if (!snapshot) return undefined;
          read.push(snapshot);
        }
      }
      return read;
    } catch (err) {
      // A file the key does not open may be torn, forged, or the repository made anew with a new
      // master key (the password stays the same): the key is read again next time.
      if (err instanceof SnapshotFileError && err.kind === 'sealed') this.keys.dropMasterKey(repo);
      this.logger.debug(`a snapshot file of ${redactUrl(repo.url)} was not read (${(err as Error).message}); restic lists the replica`);
      return undefined;
    }
  }
}
