import { Injectable, Logger } from '@nestjs/common';
import { redactUrl } from '../common/redact';
import { ReplicaKeysService } from './replica-keys.service';
import { decodeSnapshotFile } from './restic-snapshot-file';
import { Repository } from './restic.adapter';
import { SnapshotIdsAdapter } from './snapshot-ids.adapter';
import { SnapshotInfo } from './writer-rule';

/** More new snapshots than this at once (a first look at a long-lived replica): restic lists them. */
export const MAX_SNAPSHOT_FILES = 64;

/**
 * A replica's snapshots read straight from its store, without a restic start (which opens the
 * repository's key, ~0.2–0.5 s): each snapshot file fetched by id (SnapshotIdsAdapter.file) and
 * opened with the master key (ReplicaKeysService.masterKey), checked as restic checks it (its bytes
 * hash to its id, the key's MAC matches). Where anything is in doubt (a store it cannot read, no
 * cheap key, a file gone, torn or sealed with another key) it answers undefined and restic lists.
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
  async read(repo: Repository, ids: readonly string[]): Promise<SnapshotInfo[] | undefined> {
    if (ids.length > MAX_SNAPSHOT_FILES) return undefined;
    const key = await this.keys.masterKey(repo);
    if (!key) return undefined;
    try {
      const read = await Promise.all(
        ids.map(async (id) => {
          const bytes = await this.ids.file(repo.url, id);
          return bytes && decodeSnapshotFile(key, id, bytes);
        }),
      );
      return read.every((snapshot) => snapshot !== undefined) ? (read as SnapshotInfo[]) : undefined;
    } catch (err) {
      this.logger.debug(`a snapshot file of ${redactUrl(repo.url)} was not read (${(err as Error).message}); restic lists the replica`);
      return undefined;
    }
  }
}
