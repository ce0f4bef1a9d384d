/** A volume whose newest replica is older than the operator's threshold (or that never replicated) gets a warning. */
export function replicaIsOld(lastReplicatedAt: string | null, warningMinutes: number, now = Date.now()): boolean {
  return lastReplicatedAt === null || now - Date.parse(lastReplicatedAt) > warningMinutes * 60_000;
}
