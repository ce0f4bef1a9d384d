import { SnapshotInfo, readSnapshot, replicaView } from './writer-rule';

export interface RetentionPolicy {
  keepLast: number;
  keepDaily: number;
}

/** The day a snapshot belongs to, as restic's `--keep-daily` sees it: the date in the time restic recorded. */
function dayOf(snapshot: SnapshotInfo): string {
  return snapshot.time.slice(0, 10);
}

/**
 * The data snapshots retention forgets: every one off the lineage (an old writer's late snapshots),
 * and the lineage's beyond the policy. restic's own policies order by time, which a skewed clock
 * gets wrong; this walks the lineage instead: its newest is always kept, then `keepLast`, then the
 * newest of each of `keepDaily` days (as restic counts them: a day differing from the last one kept).
 * Claims and snapshots that are not well-formed Mosaic ones are never forgotten.
 */
export function snapshotsToForget(snapshots: SnapshotInfo[], policy: RetentionPolicy): string[] {
  const { lineage, generation, contestedBy } = replicaView(snapshots);
  // Only under a holder: a contested generation's data is not on the lineage yet, and generation 0 has no fence.
  if (contestedBy || generation === 0) return [];
  const keep = new Set(lineage.slice(0, Math.max(1, policy.keepLast)).map((s) => s.id));
  let days = 0;
  let lastDay: string | undefined;
  for (const snapshot of lineage) {
    if (days >= policy.keepDaily) break;
    const day = dayOf(snapshot);
    if (day === lastDay) continue;
    keep.add(snapshot.id);
    lastDay = day;
    days++;
  }
  return snapshots.filter((s) => readSnapshot(s)?.kind === 'data' && !keep.has(s.id)).map((s) => s.id);
}
