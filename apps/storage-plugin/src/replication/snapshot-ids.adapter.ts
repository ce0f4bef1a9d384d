import { Inject, Injectable } from '@nestjs/common';
import { lstat, readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { MAX_SNAPSHOT_FILE_BYTES } from './restic-snapshot-file';
import { readStoreFile } from './store-file';
import { RestRepository, restRepository, storeRequest } from './store-http';

/**
 * What a repository's `snapshots/` folder holds, read without restic: the ids of its snapshots, or
 * `missing` when no repository is there (its `config` file is absent, which is what restic's
 * `missing-repository` means), or undefined when this store cannot be read so (restic must list it).
 */
export type SnapshotIds = ReadonlySet<string> | 'missing' | undefined;

const SNAPSHOT_ID = /^[0-9a-f]{64}$/;
/** A listing of snapshot names is small; a store that answers with more is not trusted. */
const MAX_LISTING_BYTES = 8 * 1024 * 1024;
export const LISTING_TIMEOUT_MS = 10_000;

/**
 * The ids of a replica's snapshots straight from its store, in milliseconds instead of a restic
 * start (which opens the repository's key, ~0.5 s): a local folder's `snapshots/`, a REST server's
 * `GET <repo>/snapshots/` (restic's REST protocol, v2). A snapshot's id is the hash of its
 * encrypted file, so the same ids mean the same snapshots, tags and all: the plugin answers from
 * the listing it holds only while the ids are exactly those it knows (ReplicationService). Any
 * other backend, or any doubt (an error, a name that is not an id), is undefined: restic lists.
 */
@Injectable()
export class SnapshotIdsAdapter {
  constructor(@Inject(PLUGIN_CONFIG) private readonly config: PluginConfig) {}

  async list(url: string): Promise<SnapshotIds> {
    try {
      const store = this.storeOf(url);
      if (store && 'folder' in store) return await this.local(store.folder);
      if (store) return await this.rest(store.rest);
    } catch {
      // Not readable this way now: restic decides (and says why when it cannot either).
    }
    return undefined;
  }

  /**
   * The bytes of the snapshot file `id` (restic-snapshot-file.ts decodes them), from the same stores
   * as `list`; undefined when this store cannot be read so, or the file is gone or too large.
   */
  async file(url: string, id: string): Promise<Buffer | undefined> {
    if (!SNAPSHOT_ID.test(id)) return undefined;
    try {
      const store = this.storeOf(url);
      if (store && 'folder' in store) {
        return isAbsolute(store.folder) ? await readStoreFile(join(store.folder, 'snapshots', id), MAX_SNAPSHOT_FILE_BYTES) : undefined;
      }
      if (store) {
        const answer = await storeRequest(store.rest, `snapshots/${id}`, { method: 'GET', deadlineMs: this.deadlineMs(), maxBytes: MAX_SNAPSHOT_FILE_BYTES });
        return answer.status === 200 ? answer.body : undefined;
      }
    } catch {
      // Gone, unreadable or too large: restic decides.
    }
    return undefined;
  }

  /** Where `url` is read without restic: a local folder, or a REST repository; undefined for other backends (throws for a REST URL that is none). */
  private storeOf(url: string): { folder: string } | { rest: RestRepository } | undefined {
    if (isAbsolute(url)) return { folder: url };
    if (url.startsWith('local:')) return { folder: url.slice('local:'.length) };
    if (!url.startsWith('rest:')) return undefined;
    const repo = restRepository(url.slice('rest:'.length), this.config.resticEnv);
    return repo && { rest: repo };
  }

  /**
   * A deadline on each call; never longer than the silence after which a restic run counts as
   * stalled (RESTIC_STALL_TIMEOUT_S): a store that says nothing for that long is stalled, and the
   * restic listing that follows gets the same time.
   */
  private deadlineMs(): number {
    return Math.min(LISTING_TIMEOUT_MS, this.config.resticStallTimeoutS * 1000);
  }

  private async local(path: string): Promise<SnapshotIds> {
    let names: string[];
    try {
      names = await readdir(join(path, 'snapshots'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
      const config = await lstat(join(path, 'config')).then(
        () => true,
        (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : undefined),
      );
      return config === false ? 'missing' : undefined;
    }
    // restic writes a file under a temporary name and renames it: such a name is no snapshot yet.
    return new Set(names.filter((n) => SNAPSHOT_ID.test(n)));
  }

  private async rest(repo: RestRepository): Promise<SnapshotIds> {
    const answer = await storeRequest(repo, 'snapshots/', { method: 'GET', deadlineMs: this.deadlineMs(), maxBytes: MAX_LISTING_BYTES });
    if (answer.status !== 200) return undefined;
    const parsed = JSON.parse(answer.body.toString('utf8')) as unknown;
    if (!Array.isArray(parsed)) return undefined;
    const ids = new Set<string>();
    for (const entry of parsed) {
      // v2 answers {name, size}; a v1 server, plain names.
      const name: unknown = typeof entry === 'string' ? entry : (entry as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return undefined;
      if (SNAPSHOT_ID.test(name)) ids.add(name);
    }
    return ids;
  }
}

