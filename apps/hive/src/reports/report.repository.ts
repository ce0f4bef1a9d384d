import { Injectable } from '@nestjs/common';
import { SqliteDatabase } from '../database/sqlite-database';

export interface StoredReport {
  kind: string;
  payload: unknown;
  receivedAt: string;
}

interface ReportRow {
  kind: string;
  payload: string;
  received_at: string;
}

@Injectable()
export class ReportRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /**
   * Keeps the newer report by its own `at` (in epoch ms: ISO strings with and without
   * fractions do not sort as text). Returns false when a newer one was stored already.
   */
  storeIfNewer(deviceId: string, kind: string, atMs: number, payload: unknown, receivedAt: string): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO reports (device_id, kind, at_ms, payload, received_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (device_id, kind) DO UPDATE SET
             at_ms = excluded.at_ms, payload = excluded.payload, received_at = excluded.received_at
           WHERE excluded.at_ms >= reports.at_ms`,
        )
        .run(deviceId, kind, atMs, JSON.stringify(payload), receivedAt).changes > 0
    );
  }

  /** When the latest report of a kind arrived, without reading its payload. */
  receivedAt(deviceId: string, kind: string): string | null {
    const row = this.db.prepare('SELECT received_at FROM reports WHERE device_id = ? AND kind = ?').get(deviceId, kind) as
      | { received_at: string }
      | undefined;
    return row?.received_at ?? null;
  }

  latestForDevice(deviceId: string): StoredReport[] {
    const rows = this.db.prepare('SELECT kind, payload, received_at FROM reports WHERE device_id = ?').all(deviceId) as ReportRow[];
    return rows.map((row) => ({ kind: row.kind, payload: JSON.parse(row.payload) as unknown, receivedAt: row.received_at }));
  }
}
