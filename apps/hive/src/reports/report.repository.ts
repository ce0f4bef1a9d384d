import { Injectable } from '@nestjs/common';
import { QueryCreator } from 'kysely';
import { HiveDatabase } from '../database/database';
import { HiveTables } from '../database/schema';

export interface StoredReport {
  kind: string;
  payload: unknown;
  receivedAt: string;
}

export interface NewReport {
  deviceId: string;
  kind: string;
  atMs: number;
  payload: unknown;
  receivedAt: string;
}

type Round = { report: NewReport; index: number }[];

const rowKey = (deviceId: string, kind: string) => `${deviceId}\0${kind}`;

/** The reports split so that no round holds a device's report of a kind twice; each keeps its order and index. */
function roundsOf(reports: NewReport[]): Round[] {
  const rounds: Round[] = [];
  let left: Round = reports.map((report, index) => ({ report, index }));
  while (left.length) {
    const seen = new Set<string>();
    const round: Round = [];
    const later: Round = [];
    for (const entry of left) {
      const key = rowKey(entry.report.deviceId, entry.report.kind);
      if (seen.has(key)) later.push(entry);
      else {
        seen.add(key);
        round.push(entry);
      }
    }
    rounds.push(round);
    left = later;
  }
  return rounds;
}

@Injectable()
export class ReportRepository {
  constructor(private readonly db: HiveDatabase) {}

  /**
   * Keeps the newer report by its own `at` (in epoch ms: ISO strings with and without
   * fractions do not sort as text). Returns false when a newer one was stored already.
   */
  async storeIfNewer(deviceId: string, kind: string, atMs: number, payload: unknown, receivedAt: string): Promise<boolean> {
    const rows = await this.upsert(this.db.q, [{ deviceId, kind, atMs, payload, receivedAt }]).execute();
    return rows.length > 0;
  }

  /**
   * storeIfNewer for several reports, answering per report whether it was kept, and the reporting
   * devices' last-seen time set to `seenAt` (a report is a sign of life). Atomic by itself: on
   * PostgreSQL one statement (the devices' update in a WITH beside the insert), so a batch of
   * reports costs one round trip rather than four (BEGIN, two statements, COMMIT); on SQLite, or
   * when a device's report of a kind comes twice (one statement cannot write a row twice: the
   * second goes in a later round, in its order), a transaction of its own unless the caller is
   * in one already.
   */
  async storeManyIfNewer(reports: NewReport[], seenAt: string): Promise<boolean[]> {
    if (!reports.length) return [];
    const rounds = roundsOf(reports);
    if (this.db.kind === 'postgres' && rounds.length === 1) return this.storeRoundTouching(rounds[0], seenAt);
    const storeAll = async () => {
      const kept = new Array<boolean>(reports.length).fill(false);
      for (const round of rounds) {
        const written = await this.storeRound(round.map(({ report }) => report));
        for (const { report, index } of round) kept[index] = written.has(rowKey(report.deviceId, report.kind));
      }
      await this.seen(this.db.q, reports, seenAt).execute();
      return kept;
    };
    return this.db.inTransaction ? storeAll() : this.db.transaction(storeAll);
  }

  /** One round's reports and their devices' last-seen time in one PostgreSQL statement. */
  private async storeRoundTouching(round: Round, seenAt: string): Promise<boolean[]> {
    const reports = round.map(({ report }) => report);
    const rows = await this.db.q
      .with('kept', (db) => this.upsert(db, reports))
      .with('seen', (db) => this.seen(db, reports, seenAt).returning('id'))
      .selectFrom('kept')
      .select(['device_id', 'kind'])
      .execute();
    const written = new Set(rows.map((row) => rowKey(row.device_id, row.kind)));
    return round.map(({ report }) => written.has(rowKey(report.deviceId, report.kind)));
  }

  private async storeRound(reports: NewReport[]): Promise<Set<string>> {
    const rows = await this.upsert(this.db.q, reports).execute();
    return new Set(rows.map((row) => rowKey(row.device_id, row.kind)));
  }

  /** The reporting devices' last-seen time. */
  private seen(db: QueryCreator<HiveTables>, reports: NewReport[], seenAt: string) {
    return db.updateTable('devices').set({ last_seen_at: seenAt }).where('id', 'in', [...new Set(reports.map((report) => report.deviceId))]);
  }

  /** The insert that keeps each report only when it is not older than the kept one. */
  private upsert(db: QueryCreator<HiveTables>, reports: NewReport[]) {
    return db
      .insertInto('reports')
      .values(
        reports.map((report) => ({
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
      .returning(['device_id', 'kind']);
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
