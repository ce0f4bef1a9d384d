import { createHash } from 'node:crypto';
import { zstdDecompressSync } from 'node:zlib';
import { CryptoKey, openSealed } from './restic-key-file';
import { SnapshotInfo } from './writer-rule';

/**
 * restic's snapshot files (restic doc/design.rst, "Snapshots"), read without restic: a file in the
 * repository's `snapshots/` named by the SHA-256 of its bytes, which are the snapshot's JSON sealed
 * with the master key (restic-key-file.ts, openSealed); in a version 2 repository the JSON is
 * preceded by a version byte, 2 for zstd-compressed. What restic's `snapshots --json` lists is this
 * JSON with its id added.
 */

/** A Mosaic snapshot file is about 500 bytes (one path, a few tags); a larger one is not read. */
export const MAX_SNAPSHOT_FILE_BYTES = 64 * 1024;
const SNAPSHOT_ID = /^[0-9a-f]{64}$/;
/** restic's version byte of a compressed unpacked file (repository version 2). */
const COMPRESSED = 2;
/** `{`: an uncompressed snapshot file's first byte. */
const OBJECT = 0x7b;
/** A tree id, and a time as Go writes one (RFC 3339, UTC or an offset, nanoseconds at most). */
const TREE_ID = /^[0-9a-f]{64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A snapshot file that is not one restic wrote with this key: `sealed` when the key's MAC does not
 * match (the file is torn, forged, or the key is not the repository's), `format` otherwise.
 */
export class SnapshotFileError extends Error {
  constructor(
    message: string,
    readonly kind: 'format' | 'sealed' = 'format',
  ) {
    super(message);
    this.name = 'SnapshotFileError';
  }
}

/**
 * The snapshot stored under `id`, as restic lists it, from the file's bytes: refused unless the
 * bytes hash to the id, the master key's MAC matches and the JSON holds a snapshot.
 */
export function decodeSnapshotFile(key: CryptoKey, id: string, bytes: Buffer): SnapshotInfo {
  const short = id.slice(0, 8);
  if (!SNAPSHOT_ID.test(id)) throw new SnapshotFileError(`${JSON.stringify(id.slice(0, 80))} is not a snapshot id`);
  if (bytes.length > MAX_SNAPSHOT_FILE_BYTES) throw new SnapshotFileError(`snapshot ${short} is ${bytes.length} bytes, more than a snapshot file`);
  if (createHash('sha256').update(bytes).digest('hex') !== id) throw new SnapshotFileError(`snapshot ${short} does not hash to its name`);
  const plain = openSealed(key, bytes);
  if (!plain) throw new SnapshotFileError(`snapshot ${short} is not sealed with the repository's key`, 'sealed');
  // restic's own rule: a version byte (2: zstd follows), or the JSON itself (an object).
  if (plain[0] !== COMPRESSED && plain[0] !== OBJECT) throw new SnapshotFileError(`snapshot ${short} is in a format restic does not write`);
  let text: string;
  try {
    text = (plain[0] === COMPRESSED ? zstdDecompressSync(plain.subarray(1), { maxOutputLength: MAX_SNAPSHOT_FILE_BYTES }) : plain).toString('utf8');
  } catch (err) {
    throw new SnapshotFileError(`snapshot ${short} does not decompress: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SnapshotFileError(`snapshot ${short} is not JSON`);
  }
  const snapshot = json as ResticSnapshotJson & { tree?: unknown };
  if (
    typeof json !== 'object' ||
    json === null ||
    typeof snapshot.time !== 'string' ||
    !RFC3339.test(snapshot.time) ||
    Number.isNaN(Date.parse(snapshot.time)) ||
    typeof snapshot.tree !== 'string' ||
    !TREE_ID.test(snapshot.tree)
  ) {
    throw new SnapshotFileError(`snapshot ${short} holds no snapshot (a time and a tree)`);
  }
  const tags: unknown = snapshot.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new SnapshotFileError(`snapshot ${short} has tags that are not strings`);
  return snapshotInfo(id, snapshot);
}

/** A snapshot's JSON as restic stores and lists it (the fields the plugin reads). */
export interface ResticSnapshotJson {
  time: string;
  tags?: string[] | null;
  summary?: { total_bytes_processed?: unknown } | null;
}

/** What the plugin keeps of a snapshot, from its JSON (a file's or restic's listing). */
export function snapshotInfo(id: string, snapshot: ResticSnapshotJson): SnapshotInfo {
  // restic 0.17+ records a summary with each snapshot; older snapshots have none.
  const bytes = snapshot.summary?.total_bytes_processed;
  return { id, time: snapshot.time, tags: snapshot.tags ?? [], ...(typeof bytes === 'number' && bytes >= 0 ? { totalBytes: bytes } : {}) };
}
