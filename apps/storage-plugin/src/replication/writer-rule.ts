/** The tags of Mosaic's snapshots. */
export const SNAPSHOT_TAG = 'mosaic';
export const CLAIM_TAG = 'mosaic-claim';
export const WRITER_TAG_PREFIX = 'writer:';

export interface SnapshotInfo {
  id: string;
  /** ISO time restic recorded. */
  time: string;
  tags: string[];
  /** Bytes of file contents in the snapshot, from restic's summary (snapshots made by restic ≥ 0.17). */
  totalBytes?: number;
}

export type WriterDecision = { allowed: true; writer: string | null } | { allowed: false; writer: string };

export function writerTag(deviceId: string): string {
  return `${WRITER_TAG_PREFIX}${deviceId}`;
}

export function writerOf(snapshot: SnapshotInfo): string | null {
  const tag = snapshot.tags.find((t) => t.startsWith(WRITER_TAG_PREFIX));
  return tag ? tag.slice(WRITER_TAG_PREFIX.length) : null;
}

function isMosaic(snapshot: SnapshotInfo): boolean {
  return snapshot.tags.includes(SNAPSHOT_TAG) || snapshot.tags.includes(CLAIM_TAG);
}

/** restic records nanoseconds; Date keeps milliseconds, so the rest of the fraction breaks ties. */
export function snapshotTimeNs(time: string): bigint {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return -1n;
  const fraction = /\.(\d+)/.exec(time)?.[1] ?? '';
  return BigInt(ms) * 1_000_000n + BigInt((fraction.slice(3, 9) || '0').padEnd(6, '0'));
}

function newestFirst(a: SnapshotInfo, b: SnapshotInfo): number {
  const diff = snapshotTimeNs(b.time) - snapshotTimeNs(a.time);
  if (diff !== 0n) return diff > 0n ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** The newest Mosaic snapshot (data or claim): the one whose writer owns the replica. */
export function newestMosaicSnapshot(snapshots: SnapshotInfo[]): SnapshotInfo | undefined {
  return snapshots.filter(isMosaic).sort(newestFirst)[0];
}

/** The snapshot a restore uses: the newest tagged `mosaic` that is not a claim. */
export function newestDataSnapshot(snapshots: SnapshotInfo[]): SnapshotInfo | undefined {
  return snapshots.filter((s) => s.tags.includes(SNAPSHOT_TAG) && !s.tags.includes(CLAIM_TAG)).sort(newestFirst)[0];
}

/**
 * The writer rule: the writer of a replica is the `writer:` tag of its newest snapshot, and only
 * the writer may add a snapshot. An empty replica (or one whose newest snapshot names no writer)
 * may be written by anyone.
 */
export function decideWriter(snapshots: SnapshotInfo[], deviceId: string): WriterDecision {
  const newest = newestMosaicSnapshot(snapshots);
  const writer = newest ? writerOf(newest) : null;
  if (writer === null || writer === deviceId) return { allowed: true, writer };
  return { allowed: false, writer };
}
