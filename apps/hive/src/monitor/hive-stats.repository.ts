import { Injectable } from '@nestjs/common';
import { HiveDatabase } from '../database/database';

/** Read-only counts across the Hive's tables, for the metrics a scrape reads. */
@Injectable()
export class HiveStatsRepository {
  constructor(private readonly db: HiveDatabase) {}

  async registeredDevices(): Promise<number> {
    const row = await this.db.q.selectFrom('devices').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async movesByState(): Promise<Array<{ state: string; n: number }>> {
    const rows = await this.db.q
      .selectFrom('moves')
      .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    return rows.map((r) => ({ state: r.state, n: Number(r.n) }));
  }

  /** Devices by the outcome of their latest upgrade attempt (pending, started, succeeded, rolled_back, failed). */
  async upgradesByOutcome(): Promise<Array<{ outcome: string; n: number }>> {
    const rows = await this.db.q
      .selectFrom('upgrade_attempts as a')
      .select((eb) => ['a.outcome', eb.fn.countAll<number>().as('n')])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('upgrade_attempts as b')
              .select('b.id')
              .whereRef('b.device_id', '=', 'a.device_id')
              .where((eb) =>
                eb.or([
                  eb('b.requested_at', '>', eb.ref('a.requested_at')),
                  eb.and([eb('b.requested_at', '=', eb.ref('a.requested_at')), eb('b.id', '>', eb.ref('a.id'))]),
                ]),
              ),
          ),
        ),
      )
      .groupBy('a.outcome')
      .execute();
    return rows.map((r) => ({ outcome: r.outcome, n: Number(r.n) }));
  }

  /** When the Hive received each device's latest report of each kind. */
  async reportReceipts(): Promise<Array<{ deviceId: string; kind: string; receivedAt: string }>> {
    return this.db.q.selectFrom('reports').select(['device_id as deviceId', 'kind', 'received_at as receivedAt']).execute();
  }
}
