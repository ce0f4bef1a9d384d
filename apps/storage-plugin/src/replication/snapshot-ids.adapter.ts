import { Inject, Injectable } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { lstat, readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';

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
/** restic reaches a REST server through these; the plugin's own HTTP client would not: restic lists instead. */
const REST_SETTINGS_RESTIC_ONLY = /^(RESTIC_CACERT|RESTIC_TLS_CLIENT_CERT|SSL_CERT_FILE|SSL_CERT_DIR|HTTPS?_PROXY|https?_proxy)$/;

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
      if (isAbsolute(url)) return await this.local(url);
      if (url.startsWith('local:')) return await this.local(url.slice('local:'.length));
      if (url.startsWith('rest:')) return await this.rest(url.slice('rest:'.length));
    } catch {
      // Not readable this way now: restic decides (and says why when it cannot either).
    }
    return undefined;
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

  private async rest(address: string): Promise<SnapshotIds> {
    if (Object.keys(this.config.resticEnv).some((name) => REST_SETTINGS_RESTIC_ONLY.test(name))) return undefined;
    const base = new URL(address.endsWith('/') ? address : `${address}/`);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') return undefined;
    const url = new URL('snapshots/', base);
    const auth = base.username ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}` : undefined;
    url.username = '';
    url.password = '';
    const body = await this.get(url, auth);
    if (body === undefined) return undefined;
    const parsed = JSON.parse(body) as unknown;
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

  /** The body of a 200 answer, or undefined for any other; at most LISTING_TIMEOUT_MS, or the stall timeout when shorter. */
  private get(url: URL, auth: string | undefined): Promise<string | undefined> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<string | undefined>((resolveBody, rejectBody) => {
      // A deadline on the whole call, not only on silence; never longer than the silence after which
      // a restic run counts as stalled (RESTIC_STALL_TIMEOUT_S): a store that says nothing for that
      // long is stalled, and the restic listing that follows gets the same time.
      const deadlineMs = Math.min(LISTING_TIMEOUT_MS, this.config.resticStallTimeoutS * 1000);
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
      const resolve = (body: string | undefined) => {
        clearTimeout(timer);
        resolveBody(body);
      };
      const reject = (err: Error) => {
        clearTimeout(timer);
        rejectBody(err);
      };
      const req = request(url, { method: 'GET', auth, headers: { Accept: 'application/vnd.x.restic.rest.v2' }, agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve(undefined);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_LISTING_BYTES) req.destroy(new Error('listing too large'));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }
}
