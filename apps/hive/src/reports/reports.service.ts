import { Injectable } from '@nestjs/common';
import { ReportAppsDto, ReportVersionDto, ReportVolumesDto } from '@mosaic/protocol';
import { ChangeFeed } from '../changes/change-feed';
import { ReportRepository } from './report.repository';

/** The report kinds of §4, by the name the REST API shows them under. */
export const REPORT_KINDS = ['apps', 'volumes', 'version'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export interface LatestReports {
  apps: ReportAppsDto | null;
  volumes: ReportVolumesDto | null;
  version: ReportVersionDto | null;
  /** When Hive received each one, by Hive's clock. */
  receivedAt: Record<ReportKind, string | null>;
}

/** The newest report of each kind per device; an older one arriving late is dropped. */
@Injectable()
export class ReportsService {
  constructor(
    private readonly reports: ReportRepository,
    private readonly changes: ChangeFeed = new ChangeFeed(),
  ) {}

  /** `report` has been validated by its DTO, so `at` is a real ISO time. */
  async store(deviceId: string, kind: ReportKind, report: { at: string }): Promise<boolean> {
    const stored = await this.reports.storeIfNewer(deviceId, kind, Date.parse(report.at), report, new Date().toISOString());
    if (stored) {
      // A report changes the device's health and its apps' state, containers and replica times.
      this.changes.publish('devices', deviceId);
      if (kind !== 'version') this.changes.publish('apps');
    }
    return stored;
  }

  /**
   * `store` for several reports at once, each answered as `store` would, and the reporting devices
   * counted as seen now: atomic by itself, one statement on PostgreSQL (ReportRepository.storeManyIfNewer).
   */
  async storeMany(reports: { deviceId: string; kind: ReportKind; report: { at: string } }[]): Promise<boolean[]> {
    const receivedAt = new Date().toISOString();
    const kept = await this.reports.storeManyIfNewer(
      reports.map(({ deviceId, kind, report }) => ({ deviceId, kind, atMs: Date.parse(report.at), payload: report, receivedAt })),
      receivedAt,
    );
    reports.forEach(({ deviceId, kind }, i) => {
      if (!kept[i]) return;
      this.changes.publish('devices', deviceId);
      if (kind !== 'version') this.changes.publish('apps');
    });
    return kept;
  }

  receivedAt(deviceId: string, kind: ReportKind): Promise<string | null> {
    return this.reports.receivedAt(deviceId, kind);
  }

  /** When each device's latest report of `kind` arrived, by device id. */
  receivedAtAll(kind: ReportKind): Promise<Map<string, string>> {
    return this.reports.receivedAtAll(kind);
  }

  async latest(deviceId: string): Promise<LatestReports> {
    const latest: LatestReports = {
      apps: null,
      volumes: null,
      version: null,
      receivedAt: { apps: null, volumes: null, version: null },
    };
    for (const stored of await this.reports.latestForDevice(deviceId)) {
      const kind = stored.kind as ReportKind;
      if (!REPORT_KINDS.includes(kind)) continue;
      (latest as unknown as Record<ReportKind, unknown>)[kind] = stored.payload;
      latest.receivedAt[kind] = stored.receivedAt;
    }
    return latest;
  }
}
