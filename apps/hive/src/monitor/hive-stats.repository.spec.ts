import { Logger } from '@nestjs/common';
import { IN_MEMORY, SqliteDatabase } from '../database/sqlite-database';
import { HiveStatsRepository } from './hive-stats.repository';

describe('HiveStatsRepository', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(true));

  it('counts each device once, by the outcome of its latest upgrade attempt', () => {
    const db = new SqliteDatabase(IN_MEMORY);
    const device = db.prepare('INSERT INTO devices (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)');
    const attempt = db.prepare(
      `INSERT INTO upgrade_attempts (id, device_id, requested_at, requested_by, from_version, target_version, outcome)
       VALUES (?, ?, ?, 'hive', '0.1.0', ?, ?)`,
    );
    for (const id of ['d1', 'd2', 'd3']) device.run(id, id, `hash-${id}`, '2026-12-06T00:00:00.000Z');
    attempt.run('a1', 'd1', '2026-12-06T01:00:00.000Z', '0.2.0', 'rolled_back');
    attempt.run('a2', 'd1', '2026-12-06T02:00:00.000Z', '0.3.0', 'succeeded');
    attempt.run('a3', 'd2', '2026-12-06T01:00:00.000Z', '0.2.0', 'rolled_back');
    // Two attempts at the same time: the later id is the latest, so d3 counts once.
    attempt.run('b1', 'd3', '2026-12-06T03:00:00.000Z', '0.3.0', 'failed');
    attempt.run('b2', 'd3', '2026-12-06T03:00:00.000Z', '0.3.0', 'started');
    const counts = new HiveStatsRepository(db).upgradesByOutcome().sort((x, y) => x.outcome.localeCompare(y.outcome));
    expect(counts).toEqual([
      { outcome: 'rolled_back', n: 1 },
      { outcome: 'started', n: 1 },
      { outcome: 'succeeded', n: 1 },
    ]);
    db.close();
  });
});
