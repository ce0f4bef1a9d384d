/**
 * Does a target's stage (a SchedulerAction.prepare result, §2.7) hold the source's first copy (a
 * SchedulerAction.replicate result, §2.8): each copied volume staged from a snapshot no older than
 * the copy's? Snapshot times are restic's whole seconds, the same value on both sides. A volume the
 * copy gives no time for is held.
 */
export function stageHoldsCopy(prepared: Record<string, unknown> | undefined, copied: Record<string, unknown> | undefined): boolean {
  const staged = (prepared?.staged ?? []) as Array<{ name?: unknown; snapshotAt?: unknown }>;
  const volumes = (copied?.volumes ?? []) as Array<{ name?: unknown; lastReplicatedAt?: unknown }>;
  return volumes.every((volume) => {
    if (typeof volume.lastReplicatedAt !== 'string') return true;
    const at = staged.find((v) => v.name === volume.name)?.snapshotAt;
    return typeof at === 'string' && Date.parse(at) >= Date.parse(volume.lastReplicatedAt);
  });
}
