/**
 * The writer rule and the replica's lineage, decided from the snapshot list alone, without clocks
 * (docs/storage-plugin-api.md §3): a claim takes the next generation; the device holding the
 * highest one writes; a data snapshot carries its writer's generation and a sequence number.
 */

/** The tags of Mosaic's snapshots. */
export const SNAPSHOT_TAG = 'mosaic';
export const CLAIM_TAG = 'mosaic-claim';
export const WRITER_TAG_PREFIX = 'writer:';
export const GENERATION_TAG_PREFIX = 'gen:';
export const SEQUENCE_TAG_PREFIX = 'seq:';
export const BASE_TAG_PREFIX = 'base:';

export interface SnapshotInfo {
  id: string;
  /** ISO time restic recorded: the writing device's clock, used only for snapshots without a generation. */
  time: string;
  tags: string[];
  /** Bytes of file contents in the snapshot, from restic's summary (snapshots made by restic ≥ 0.17). */
  totalBytes?: number;
}

/** A Mosaic snapshot with its tags read. Generation 0: written before generations existed (no `gen:` tag). */
interface Marked {
  snapshot: SnapshotInfo;
  writer: string;
  generation: number;
}

export interface DataSnapshot extends Marked {
  kind: 'data';
  /** Orders one writer's snapshots; 0 for generation 0, which restic's time orders instead. */
  sequence: number;
}

export interface ClaimSnapshot extends Marked {
  kind: 'claim';
  /** The id of the data snapshot the claimer continued from; absent when there was none. */
  base?: string;
}

export type MosaicSnapshot = DataSnapshot | ClaimSnapshot;

export interface ReplicaView {
  /** The highest claim generation; 0 while nothing has claimed one. */
  generation: number;
  /** The device that may write; null when none does yet (an empty replica) or the top generation is contested. */
  writer: string | null;
  /** The devices that claimed the top generation, when there are several and none has written data in it. */
  contestedBy: string[] | null;
  /** The replica's lineage of data snapshots, newest first: what a restore uses first, then its history. */
  lineage: SnapshotInfo[];
  /** The sequence number of the next data snapshot. */
  nextSequence: number;
}

export type WriterDecision =
  { allowed: true; writer: string | null; contested: false } | { allowed: false; writer: string | null; contested: boolean };

const COUNTER = /^(0|[1-9][0-9]{0,15})$/;
const SNAPSHOT_ID = /^[0-9a-f]{64}$/;

export function writerTag(deviceId: string): string {
  return `${WRITER_TAG_PREFIX}${deviceId}`;
}

/** The one value of a tag with the prefix: undefined without one, null when there are several. */
function tagValue(tags: string[], prefix: string): string | undefined | null {
  const values = tags.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
  return values.length > 1 ? null : values[0];
}

function counter(value: string | undefined): number | undefined {
  if (value === undefined || !COUNTER.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The snapshot's Mosaic tags read, or undefined for a snapshot that is not a well-formed one of
 * Mosaic's: it is then never restored, never decides a writer and never pruned. Other tags are ignored.
 */
export function readSnapshot(snapshot: SnapshotInfo): MosaicSnapshot | undefined {
  const { tags } = snapshot;
  const isData = tags.includes(SNAPSHOT_TAG);
  if (isData === tags.includes(CLAIM_TAG)) return undefined;
  const writer = tagValue(tags, WRITER_TAG_PREFIX);
  const gen = tagValue(tags, GENERATION_TAG_PREFIX);
  const seq = tagValue(tags, SEQUENCE_TAG_PREFIX);
  const base = tagValue(tags, BASE_TAG_PREFIX);
  if (!writer || gen === null || seq === null || base === null) return undefined;
  if (gen === undefined) {
    // Generation 0, from before generations: no sequence number, no base.
    if (seq !== undefined || base !== undefined) return undefined;
    return isData ? { kind: 'data', snapshot, writer, generation: 0, sequence: 0 } : { kind: 'claim', snapshot, writer, generation: 0 };
  }
  const generation = counter(gen);
  if (!generation) return undefined;
  if (isData) {
    const sequence = counter(seq);
    return sequence && base === undefined ? { kind: 'data', snapshot, writer, generation, sequence } : undefined;
  }
  if (seq !== undefined || (base !== undefined && !SNAPSHOT_ID.test(base))) return undefined;
  return { kind: 'claim', snapshot, writer, generation, ...(base === undefined ? {} : { base }) };
}

/** restic records nanoseconds; Date keeps milliseconds, so the rest of the fraction breaks ties. */
export function snapshotTimeNs(time: string): bigint {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return -1n;
  const fraction = /\.(\d+)/.exec(time)?.[1] ?? '';
  return BigInt(ms) * 1_000_000n + BigInt((fraction.slice(3, 9) || '0').padEnd(6, '0'));
}

function byId(a: MosaicSnapshot, b: MosaicSnapshot): number {
  return a.snapshot.id < b.snapshot.id ? 1 : a.snapshot.id > b.snapshot.id ? -1 : 0;
}

/**
 * Newest first: by sequence number within a generation; by restic's time (then id) in generation
 * 0, the only place a clock still orders anything.
 */
function newestFirst(a: MosaicSnapshot, b: MosaicSnapshot): number {
  if (a.generation !== b.generation) return b.generation - a.generation;
  if (a.generation > 0 && a.kind === 'data' && b.kind === 'data' && a.sequence !== b.sequence) return b.sequence - a.sequence;
  if (a.generation === 0) {
    const diff = snapshotTimeNs(b.snapshot.time) - snapshotTimeNs(a.snapshot.time);
    if (diff !== 0n) return diff > 0n ? 1 : -1;
  }
  return byId(a, b);
}

/** The claims of a generation, lowest id first (the order that picks one deterministically). */
function claimsAt(claims: ClaimSnapshot[], generation: number, writer?: string): ClaimSnapshot[] {
  return claims.filter((c) => c.generation === generation && (writer === undefined || c.writer === writer)).sort((a, b) => byId(b, a));
}

/** Who holds a generation: its only claimant, or among several the one that has written data in it. */
function holderOf(
  claims: ClaimSnapshot[],
  data: DataSnapshot[],
  generation: number,
): { claim?: ClaimSnapshot; contestedBy: string[] | null } {
  const atGeneration = claimsAt(claims, generation);
  const claimants = [...new Set(atGeneration.map((c) => c.writer))].sort();
  if (claimants.length <= 1) return { claim: atGeneration[0], contestedBy: null };
  const writing = claimants.filter((w) => data.some((d) => d.generation === generation && d.writer === w));
  if (writing.length === 1) return { claim: claimsAt(claims, generation, writing[0])[0], contestedBy: null };
  return { contestedBy: claimants };
}

/** A stretch of the lineage: one generation's data by `writer` (any writer in generation 0), newest first, up to `upTo`. */
interface Segment {
  generation: number;
  writer: string | null;
  upTo?: DataSnapshot;
  /** The claim that began the segment's generation for its writer. */
  claim?: ClaimSnapshot;
}

/**
 * Where a segment's lineage goes on: at its claim's base (that writer's data of the base's
 * generation, up to the base). A claim without a base began with nothing. Without a claim (withdrawn)
 * or with its base gone (pruned under a claim), at the generation below, whole.
 */
function previousSegment(claims: ClaimSnapshot[], data: DataSnapshot[], { generation, claim }: Segment): Segment | undefined {
  if (generation === 0 || (claim && claim.base === undefined)) return undefined;
  const base = claim && data.find((d) => d.snapshot.id === claim.base && d.generation < generation);
  if (base)
    return { generation: base.generation, writer: base.writer, upTo: base, claim: claimsAt(claims, base.generation, base.writer)[0] };
  const { claim: holder } = holderOf(claims, data, generation - 1);
  return { generation: generation - 1, writer: holder?.writer ?? null, claim: holder };
}

/** The lineage from `start` back, newest first. Generations strictly decrease on the way, so it ends. */
function lineageOf(claims: ClaimSnapshot[], data: DataSnapshot[], start: Segment): DataSnapshot[] {
  const out: DataSnapshot[] = [];
  for (let segment: Segment | undefined = start; segment; segment = previousSegment(claims, data, segment)) {
    const { generation, writer, upTo } = segment;
    const counted = data.filter(
      (d) => d.generation === generation && (generation === 0 || d.writer === writer) && (!upTo || newestFirst(d, upTo) >= 0),
    );
    out.push(...counted.sort(newestFirst));
  }
  return out;
}

/** Everything the plugin decides about a replica, from one snapshot list. */
export function replicaView(snapshots: SnapshotInfo[]): ReplicaView {
  const marked = snapshots.map(readSnapshot).filter((s): s is MosaicSnapshot => s !== undefined);
  const claims = marked.filter((s): s is ClaimSnapshot => s.kind === 'claim');
  const data = marked.filter((s): s is DataSnapshot => s.kind === 'data');
  const nextSequence = Math.max(0, ...data.map((d) => d.sequence)) + 1;
  const generation = Math.max(0, ...claims.map((c) => c.generation));
  const view = (writer: string | null, contestedBy: string[] | null, start: Segment): ReplicaView => ({
    generation,
    writer,
    contestedBy,
    lineage: lineageOf(claims, data, start).map((d) => d.snapshot),
    nextSequence,
  });
  if (generation === 0) {
    // Before generations: the writer of the newest snapshot by time (the old rule), until the next claim.
    const newest = marked.filter((s) => s.generation === 0).sort(newestFirst)[0];
    return view(newest?.writer ?? null, null, { generation: 0, writer: null });
  }
  const { claim, contestedBy } = holderOf(claims, data, generation);
  if (claim) return view(claim.writer, null, { generation, writer: claim.writer, claim });
  // Contested: no data of the top generation counts yet; the lineage is what its first claim continued from.
  return view(null, contestedBy, { generation, writer: null, claim: claimsAt(claims, generation)[0] });
}

/**
 * The writer rule: only the holder of the top generation may write; an empty replica, anyone.
 * `claimedAlone` is the generation in which this device's own claim saw itself alone (if it knows):
 * it may write there even while a rival's claim still stands beside its own (a rival that saw this
 * one backs off and withdraws; until then, this device's first data snapshot settles the contest).
 */
export function decideWriter(snapshots: SnapshotInfo[] | ReplicaView, deviceId: string, claimedAlone?: number): WriterDecision {
  const view = Array.isArray(snapshots) ? replicaView(snapshots) : snapshots;
  if (view.contestedBy) {
    if (claimedAlone === view.generation && view.contestedBy.includes(deviceId))
      return { allowed: true, writer: deviceId, contested: false };
    return { allowed: false, writer: null, contested: true };
  }
  if (view.writer === null || view.writer === deviceId) return { allowed: true, writer: view.writer, contested: false };
  return { allowed: false, writer: view.writer, contested: false };
}

/** The snapshot a restore uses: the newest of the lineage. */
export function currentSnapshot(snapshots: SnapshotInfo[] | ReplicaView): SnapshotInfo | undefined {
  return (Array.isArray(snapshots) ? replicaView(snapshots) : snapshots).lineage[0];
}

function next(n: number): string {
  if (n > Number.MAX_SAFE_INTEGER) throw new Error('the replica has used up its generation or sequence numbers');
  return String(n);
}

/** The tags of a claim of the next generation, continuing from the current data snapshot. */
export function claimTags(view: ReplicaView, deviceId: string): string[] {
  const base = view.lineage[0];
  return [
    CLAIM_TAG,
    writerTag(deviceId),
    `${GENERATION_TAG_PREFIX}${next(view.generation + 1)}`,
    ...(base ? [`${BASE_TAG_PREFIX}${base.id}`] : []),
  ];
}

/** The tags of a data snapshot by the holder of the top generation. */
export function dataTags(view: ReplicaView, deviceId: string): string[] {
  return [
    SNAPSHOT_TAG,
    writerTag(deviceId),
    `${GENERATION_TAG_PREFIX}${view.generation}`,
    `${SEQUENCE_TAG_PREFIX}${next(view.nextSequence)}`,
  ];
}
