import { ReportVolumesDto } from '@mosaic/protocol';
import { LossWindow } from './move.repository';

/**
 * What a forced move may lose, from the old device's latest report.volumes: the age of the
 * instance's newest replica at `now`. Without a report, or without any replica, the figures are
 * null: nothing says that any of the data exists elsewhere.
 */
export function lossWindow(report: ReportVolumesDto | null, instance: string, now: Date): LossWindow {
  const volumes = (report?.volumes ?? [])
    .filter((volume) => volume.instance === instance)
    .map(({ name, role, lastReplicatedAt }) => ({ name, role, lastReplicatedAt }));
  // Compared as epoch ms: ISO strings with and without fractions do not sort as text.
  let newest: { at: string; ms: number } | undefined;
  for (const { lastReplicatedAt } of volumes) {
    if (lastReplicatedAt === null) continue;
    const ms = Date.parse(lastReplicatedAt);
    if (!newest || ms > newest.ms) newest = { at: lastReplicatedAt, ms };
  }
  return {
    lastReplicatedAt: newest?.at ?? null,
    // A replica "in the future" (clock skew between device and Hive) counts as no loss, not a negative one.
    ageSeconds: newest ? Math.max(0, Math.floor((now.getTime() - newest.ms) / 1000)) : null,
    reportedAt: report?.at ?? null,
    volumes,
  };
}
