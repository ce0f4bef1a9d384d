import { Injectable } from '@nestjs/common';
import { HiveDatabase, affected } from '../database/database';

export interface StoredReport {
  kind: string;
  payload: unknown;
  receivedAt: string;
}

@Injectable()
export class ReportRepository {
  constructor(private readonly db: HiveDatabase) {}

  /**
   * Keeps the newer report by its own `at` (in epoch ms: ISO strings with and without
   * fractions do not sort as text). Returns false when a newer one was stored already.
   */
  async storeIfNewer(deviceId: string, kind: string, atMs: number, payload: unknown, receivedAt: string): Promise<boolean> {
    const result = await this.db.q
      .insertInto('reports')
      .values({ device_id: deviceId, kind, at_ms: atMs, payload: JSON.stringify(payload), received_at: receivedAt })
      .onConflict((oc) =>
        oc
          .columns(['device_id', 'kind'])
          .doUpdateSet((eb) => ({ at_ms: eb.ref('excluded.at_ms'), payload: eb.ref('excluded.payload'), received_at: eb.ref('excluded.received_at') }))
          .where((eb) => eb('excluded.at_ms', '>=', eb.ref('reports.at_ms'))),
      )
      .executeTakeFirst();
    return affected(result);
  }

  /**
   * storeIfNewer for several reports in one statement per round (a device's report of a kind
   * twice in `reports` goes in a later round, in its order: one statement cannot write a row
   * twice). Answers, per report, whether it was kept.
   */
  async storeManyIfNewer(reports: { deviceId: string; kind: string; atMs: number; payload: unknown; receivedAt: string }[]): Promise<boolean[]> {
    const kept = new Array<boolean>(reports.length).fill(false);
    let left = reports.map((report, index) => ({ report, index }));
    while (left.length) {
      const seen = new Set<string>();
      const round: typeof left = [];
      const later: typeof left = [];
      for (const entry of left) {
        const key = `${entry.report.deviceId}\0${entry.report.kind}`;
        if (seen.has(key)) {
          later.push(entry);
        } else {
          seen.add(key);
          round.push(entry);
        }
      }
      const rows = await this.db.q
        .insertInto('reports')
        .values(
          round.map(({ report }) => ({
            device_id: report.deviceId,
            kind: report.kind,
            at_ms: report.atMs,
            payload: JSON.stringify(report.payload),
            received_at: report.receivedAt,
          })),
        )
        .onConflict((oc) =>
          oc
            .columns(['device_id', 'kind'])
            .doUpdateSet((eb) => ({ at_ms: eb.ref('excluded.at_ms'), payload: eb.ref('excluded.payload'), received_at: eb.ref('excluded.received_at') }))
            .where((eb) => eb('excluded.at_ms', '>=', eb.ref('reports.at_ms'))),
        )
        .returning(['device_id', 'kind'])
        .execute();
      const written = new Set(rows.map((row) => `${row.device_id}\0${row.kind}`));
      for (const { report, index } of round) kept[index] = written.has(`${report.deviceId}\0${report.kind}`);
      left = later;
    }
    return kept;
  }

  /** When the latest report of a kind arrived, without reading its payload. */
  async receivedAt(deviceId: string, kind: string): Promise<string | null> {
    const row = await this.db.q
      .selectFrom('reports')
      .select('received_at')
      .where('device_id', '=', deviceId)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row?.received_at ?? null;
  }

  /** When the latest report of a kind arrived, for every device that sent one. */
  async receivedAtAll(kind: string): Promise<Map<string, string>> {
    const rows = await this.db.q.selectFrom('reports').select(['device_id', 'received_at']).where('kind', '=', kind).execute();
    return new Map(rows.map((row) => [row.device_id, row.received_at]));
  }

  async latestForDevice(deviceId: string): Promise<StoredReport[]> {
    const rows = await this.db.q.selectFrom('reports').select(['kind', 'payload', 'received_at']).where('device_id', '=', deviceId).execute();
    return rows.map((row) => ({ kind: row.kind, payload: JSON.parse(row.payload) as unknown, receivedAt: row.received_at }));
  }
}
