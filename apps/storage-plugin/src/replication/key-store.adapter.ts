import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { MAX_KEY_FILE_BYTES, isKeyId } from './restic-key-file';
import { readStoreFile } from './store-file';
import { RestRepository, restRepository, storeRequest } from './store-http';

/** The `keys/` folder of one repository, read and written without restic. */
export interface KeyStore {
  /** The ids of its key files. */
  list(): Promise<string[]>;
  read(id: string): Promise<Buffer>;
  /** Stores a key file whole (a reader never sees half of it). */
  write(id: string, bytes: Buffer): Promise<void>;
  /** Removes a key file; one already gone is no error. */
  remove(id: string): Promise<void>;
}

/** A listing of key names is small (restic itself tries at most 20 keys). */
const MAX_LISTING_BYTES = 1024 * 1024;
/** The deadline of each request to a REST server. */
export const KEY_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The key files of a replica's repository where the plugin can reach them as restic does: a local
 * folder, or a REST server (`GET`, `POST`, `DELETE <repo>/keys/<id>`, restic's REST protocol v2).
 * Other backends (S3, sftp, rclone, or a REST server behind a proxy or custom CA): undefined.
 */
@Injectable()
export class KeyStoreAdapter {
  constructor(@Inject(PLUGIN_CONFIG) private readonly config: PluginConfig) {}

  storeFor(url: string): KeyStore | undefined {
    if (isAbsolute(url)) return localKeys(url);
    if (url.startsWith('local:') && isAbsolute(url.slice('local:'.length))) return localKeys(url.slice('local:'.length));
    if (url.startsWith('rest:')) {
      let repo: RestRepository | undefined;
      try {
        repo = restRepository(url.slice('rest:'.length), this.config.resticEnv);
      } catch {
        return undefined; // not a URL: restic says so when it runs
      }
      return repo && restKeys(repo, Math.min(KEY_REQUEST_TIMEOUT_MS, this.config.resticStallTimeoutS * 1000));
    }
    return undefined;
  }
}

function checkedId(id: string): string {
  if (!isKeyId(id)) throw new Error(`${JSON.stringify(id.slice(0, 80))} is not a key id`);
  return id;
}

function localKeys(repo: string): KeyStore {
  const dir = join(repo, 'keys');
  return {
    // restic writes under a temporary name and renames: such a name is no key yet.
    list: async () => (await readdir(dir)).filter(isKeyId),
    read: async (id) => {
      const bytes = await readStoreFile(join(dir, checkedId(id)), MAX_KEY_FILE_BYTES);
      if (!bytes) throw new Error(`key ${id.slice(0, 8)} is not a regular file of a key file's size`);
      return bytes;
    },
    write: async (id, bytes) => {
      // As restic's local backend: written under a temporary name, synced, renamed, read-only, with
      // the read permissions the repository's config file has (a repository shared with a group stays so).
      const mode = (await stat(join(repo, 'config'))).mode & 0o444;
      const temp = join(dir, `${checkedId(id)}-tmp-${randomBytes(4).toString('hex')}`);
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(bytes);
        await file.sync();
        await file.chmod(mode);
      } finally {
        await file.close();
      }
      try {
        await rename(temp, join(dir, id));
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw err;
      }
      const folder = await open(dir, 'r');
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    },
    remove: async (id) => {
      await unlink(join(dir, checkedId(id))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
  };
}

function restKeys(repo: RestRepository, deadlineMs: number): KeyStore {
  const fail = (what: string, status: number) => new Error(`the REST server answered ${what} with HTTP ${status}`);
  return {
    list: async () => {
      const answer = await storeRequest(repo, 'keys/', { method: 'GET', deadlineMs, maxBytes: MAX_LISTING_BYTES });
      if (answer.status !== 200) throw fail('the key listing', answer.status);
      const parsed = JSON.parse(answer.body.toString('utf8')) as unknown;
      if (!Array.isArray(parsed)) throw new Error('the REST server listed keys as no list');
      // v2 answers {name, size}; a v1 server, plain names.
      return parsed
        .map((entry: unknown) => (typeof entry === 'string' ? entry : (entry as { name?: unknown } | null)?.name))
        .filter((name): name is string => typeof name === 'string' && isKeyId(name));
    },
    read: async (id) => {
      const answer = await storeRequest(repo, `keys/${checkedId(id)}`, { method: 'GET', deadlineMs, maxBytes: MAX_KEY_FILE_BYTES });
      if (answer.status === 404) throw Object.assign(new Error(`key ${id.slice(0, 8)} is gone`), { code: 'ENOENT' });
      if (answer.status !== 200) throw fail(`key ${id.slice(0, 8)}`, answer.status);
      return answer.body;
    },
    write: async (id, bytes) => {
      const answer = await storeRequest(repo, `keys/${checkedId(id)}`, { method: 'POST', body: bytes, deadlineMs, maxBytes: MAX_KEY_FILE_BYTES });
      if (answer.status !== 200) throw fail(`storing key ${id.slice(0, 8)}`, answer.status);
    },
    remove: async (id) => {
      const answer = await storeRequest(repo, `keys/${checkedId(id)}`, { method: 'DELETE', deadlineMs, maxBytes: MAX_KEY_FILE_BYTES });
      if (answer.status !== 200 && answer.status !== 404) throw fail(`removing key ${id.slice(0, 8)}`, answer.status);
    },
  };
}
