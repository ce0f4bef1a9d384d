import { Logger } from '@nestjs/common';
import { openTestDatabase } from '../testing/test-database';
import { HiveStatsRepository } from './hive-stats.repository';

describe('HiveStatsRepository', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  it('counts each device once, by the outcome of its latest upgrade attempt', async () => {
    const db = await openTestDatabase();
    try {
      for (const id of ['d1', 'd2', 'd3']) {
        await db.q.insertInto('devices').values({ id, name: id, token_hash: `hash-${id}`, created_at: '2026-12-06T00:00:00.000Z', last_seen_at: null, version: null }).execute();
      }
      const attempt = (id: string, deviceId: string, at: string, target: string, outcome: string) =>
        db.q
          .insertInto('upgrade_attempts')
          .values({
            id,
            device_id: deviceId,
            requested_at: at,
            requested_by: 'hive',
            from_version: '0.1.0',
            target_version: target,
            target_image: null,
            command_id: null,
            outcome,
            reason: null,
            finished_at: null,
          })
          .execute();
      await attempt('a1', 'd1', '2026-12-06T01:00:00.000Z', '0.2.0', 'rolled_back');
      await attempt('a2', 'd1', '2026-12-06T02:00:00.000Z', '0.3.0', 'succeeded');
      await attempt('a3', 'd2', '2026-12-06T01:00:00.000Z', '0.2.0', 'rolled_back');
      // Two attempts at the same time: the later id is the latest, so d3 counts once.
      await attempt('b1', 'd3', '2026-12-06T03:00:00.000Z', '0.3.0', 'failed');
      await attempt('b2', 'd3', '2026-12-06T03:00:00.000Z', '0.3.0', 'started');
      const counts = (await new HiveStatsRepository(db).upgradesByOutcome()).sort((x, y) => x.outcome.localeCompare(y.outcome));
      expect(counts).toEqual([
        { outcome: 'rolled_back', n: 1 },
        { outcome: 'started', n: 1 },
        { outcome: 'succeeded', n: 1 },
      ]);
    } finally {
      await db.close();
    }
  });
});
