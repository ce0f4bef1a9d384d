import { Injectable, Logger } from '@nestjs/common';
import { redactUrl } from '../common/redact';
import { Clock } from '../common/clock';
import { KeyStore, KeyStoreAdapter } from './key-store.adapter';
import { Repository, ResticAdapter } from './restic.adapter';
import { CryptoKey, KeyFileError, ResticKey, isCheap, masterKeyOf, openKey, parseKeyFile, sealKey } from './restic-key-file';

/** restic tries at most this many keys when it opens a repository; the plugin reads no more either. */
const MAX_KEYS = 20;
/** After a failure, the next write tries again once this long has passed. */
export const KEY_RETRY_MS = 60 * 60_000;
/** After no master key opened, the next look for one waits this long (restic lists meanwhile). */
export const MASTER_RETRY_MS = 60_000;

/** What the plugin knows of a repository's keys: its cheap key, or that it cannot have one here, or not yet. */
type KeyState = { kind: 'cheap'; id: string } | { kind: 'unsupported' } | { kind: 'failed'; retryAt: number };

/** What a pass over a repository's keys did. */
interface KeyPass {
  /** The cheap key the password opens. */
  cheap: string;
  added: boolean;
  /** restic's calibrated keys of the same password, removed. */
  removed: number;
}

/**
 * Gives each replica a restic key that opens in milliseconds (CHEAP_SCRYPT) instead of the ~0.5 s
 * (on a fast machine; 1–2 s on a busy small one) of the key `restic init` calibrates, which every
 * restic start pays. The plugin reads restic's key with the replica's password, writes the same
 * master key under a cheap key in restic's own format, checks with restic itself that restic opens
 * it, then removes the calibrated keys of the same password (keys of other passwords are left
 * alone). Done for a new replica, and for an existing one at its next snapshot; where the store
 * cannot be written without restic (S3, sftp, rclone) or anything fails, the replica keeps its
 * keys and works as before. Never throws.
 */
@Injectable()
export class ReplicaKeysService {
  private readonly logger = new Logger('ReplicaKeys');
  /** Per repository URL, in this process. */
  private readonly states = new Map<string, KeyState>();
  /** Repositories whose failure was logged as a warning already: later ones are debug lines. */
  private readonly warned = new Set<string>();
  /** Per repository URL, its master key as opened with a password (memory only, as the password). */
  private readonly masters = new Map<string, { password: string; key: CryptoKey }>();
  /** Per repository URL, when a master key may be looked for again after none opened with a password. */
  private readonly noMaster = new Map<string, { password: string; until: number }>();

  constructor(
    private readonly store: KeyStoreAdapter,
    private readonly restic: ResticAdapter,
    private readonly clock: Clock,
  ) {}

  /** The id of the repository's cheap key, for `--key-hint`, once this process knows it. */
  hint(url: string): string | undefined {
    const state = this.states.get(url);
    return state?.kind === 'cheap' ? state.id : undefined;
  }

  /** Whether ensureCheap has something to do for the repository now. */
  due(url: string): boolean {
    const state = this.states.get(url);
    return state === undefined || (state.kind === 'failed' && this.clock.now().getTime() >= state.retryAt);
  }

  /** A repository made anew (or deleted) at `url`: what was known of its keys is void. */
  forget(url: string): void {
    this.states.delete(url);
    this.masters.delete(url);
    this.noMaster.delete(url);
  }

  /** The repository's master key opened nothing it should have: it is read from the store again next time. */
  dropMasterKey(repo: Repository): void {
    if (this.masters.get(repo.url)?.password === repo.password) this.masters.delete(repo.url);
  }

  /**
   * The repository's master key (to read its snapshot files without restic, SnapshotFilesService):
   * known from this process's last look, else opened from a cheap key file of the store (the hint
   * first), in milliseconds. Undefined when the store cannot be read so, no cheap key opens with the
   * password, or anything fails: restic then does the work, as before. Never throws.
   */
  async masterKey(repo: Repository): Promise<CryptoKey | undefined> {
    const known = this.masters.get(repo.url);
    if (known?.password === repo.password) return known.key;
    const store = this.store.storeFor(repo.url);
    if (!store) return undefined;
    const none = this.noMaster.get(repo.url);
    if (none?.password === repo.password && this.clock.now().getTime() < none.until) return undefined;
    try {
      const hint = this.hint(repo.url);
      const listed = (await store.list()).slice(0, MAX_KEYS);
      for (const id of hint ? [hint, ...listed.filter((other) => other !== hint)] : listed) {
        const key = await readKey(store, id);
        if (!key || !isCheap(key)) continue;
        const master = await openKey(key, repo.password).catch(() => null);
        if (master) return this.remember(repo, master);
      }
    } catch (err) {
      this.logger.debug(`the master key of ${redactUrl(repo.url)} was not read: ${redactUrl((err as Error).message)}`);
    }
    // Not looked for again at every listing: restic does the work meanwhile.
    this.noMaster.set(repo.url, { password: repo.password, until: this.clock.now().getTime() + MASTER_RETRY_MS });
    return undefined;
  }

  private remember(repo: Repository, master: Buffer): CryptoKey {
    const key = masterKeyOf(master);
    this.noMaster.delete(repo.url);
    this.masters.set(repo.url, { password: repo.password, key });
    return key;
  }

  /** Makes sure restic opens the repository with a cheap key; `name` is the volume's, for the logs. */
  async ensureCheap(repo: Repository, name: string): Promise<void> {
    const store = this.store.storeFor(repo.url);
    if (!store) {
      if (!this.states.has(repo.url)) this.logger.log(`the replica of ${name} keeps restic's own key: the plugin writes keys to local and REST stores only`);
      this.states.set(repo.url, { kind: 'unsupported' });
      return;
    }
    try {
      const pass = await this.makeCheap(repo, store);
      this.states.set(repo.url, { kind: 'cheap', id: pass.cheap });
      if (pass.added || pass.removed) {
        const removed = pass.removed ? `, restic's calibrated key${pass.removed > 1 ? 's' : ''} removed` : '';
        this.logger.log(`the replica of ${name} opens with a cheap key now (${pass.cheap.slice(0, 8)}${removed})`);
      }
    } catch (err) {
      const known = this.hint(repo.url);
      this.states.set(repo.url, known ? { kind: 'cheap', id: known } : { kind: 'failed', retryAt: this.clock.now().getTime() + KEY_RETRY_MS });
      const message = `the replica of ${name} at ${redactUrl(repo.url)} keeps restic's own key for now: ${redactUrl((err as Error).message)}`;
      if (this.warned.has(repo.url)) {
        this.logger.debug(message);
      } else {
        this.warned.add(repo.url);
        this.logger.warn(message);
      }
    }
  }

  private async makeCheap(repo: Repository, store: KeyStore): Promise<KeyPass> {
    const ids = (await store.list()).slice(0, MAX_KEYS);
    const keys: ResticKey[] = [];
    for (const id of ids) {
      const key = await readKey(store, id);
      if (key) keys.push(key);
    }
    // The cheap ones first: when one opens, the others are only looked at to be removed.
    keys.sort((a, b) => Number(isCheap(b)) - Number(isCheap(a)));
    let cheap: string | undefined;
    let master: Buffer | undefined;
    const calibrated: string[] = [];
    for (const key of keys) {
      if (cheap && isCheap(key)) continue;
      const opened = await openKey(key, repo.password).catch((err: unknown) => {
        if (err instanceof KeyFileError) return null; // not a key of ours to use or remove
        throw err;
      });
      if (!opened) continue;
      master ??= opened;
      if (isCheap(key)) cheap = key.id;
      else calibrated.push(key.id);
    }
    if (!master) throw new Error('no key of the repository opens with its password');
    this.remember(repo, master);
    let added = false;
    if (!cheap) {
      const sealed = await sealKey(master, repo.password, { created: this.clock.now(), username: 'mosaic', hostname: 'mosaic-storage-plugin' });
      await store.write(sealed.id, sealed.bytes);
      cheap = sealed.id;
      added = true;
    }
    if (!calibrated.length) return { cheap, added, removed: 0 };
    // The proof before anything is removed: restic itself opens the repository with the cheap key.
    const opening = await this.restic.openingKey({ ...repo, keyHint: cheap }).catch((err: unknown) => {
      throw new Error(`restic could not be asked which key it opens: ${(err as Error).message}`);
    });
    if (opening !== cheap) {
      if (added) await store.remove(cheap).catch(() => undefined);
      throw new Error(`restic did not open the repository with the cheap key ${cheap.slice(0, 8)} (it opened ${opening.slice(0, 8)})`);
    }
    this.states.set(repo.url, { kind: 'cheap', id: cheap });
    for (const id of calibrated) await store.remove(id);
    return { cheap, added, removed: calibrated.length };
  }
}

/** A key file as read from the store; undefined for one that is gone meanwhile or is no key restic could open. */
async function readKey(store: KeyStore, id: string): Promise<ResticKey | undefined> {
  let bytes: Buffer;
  try {
    bytes = await store.read(id);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return parseKeyFile(id, bytes);
  } catch (err) {
    if (err instanceof KeyFileError) return undefined;
    throw err;
  }
}
