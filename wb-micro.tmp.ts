import { Logger } from '@nestjs/common';
import { SqliteDatabase } from '/work/wt/store/apps/hive/src/database/sqlite-database';
import { WriteBatcher } from '/work/wt/store/apps/hive/src/database/write-batcher';
import { ReportRepository } from '/work/wt/store/apps/hive/src/reports/report.repository';
import { DeviceRepository } from '/work/wt/store/apps/hive/src/devices/device.repository';
import { appsReport } from '/work/wt/store/apps/hive/src/testing/fixtures';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
Logger.overrideLogger(false);
void (async () => {
  const db = await SqliteDatabase.open(join(mkdtempSync(join(tmpdir(), 'wb-')), 'h.db'));
  const devices = new DeviceRepository(db);
  const reports = new ReportRepository(db);
  const ids: string[] = [];
  for (let i = 0; i < 500; i++) { const id = `d${i}`; ids.push(id); await devices.insert({ id, name: id, tokenHash: `h${i}`, createdAt: new Date().toISOString(), lastSeenAt: null, version: null }); }
  const batcher = new WriteBatcher(db);
  const report = appsReport(new Date().toISOString());
  for (const round of [1, 2, 3]) {
    const cpu0 = process.cpuUsage(); const t0 = performance.now();
    const N = 20000;
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      const id = ids[i % ids.length];
      all.push(batcher.run(async () => { const kept = await reports.storeIfNewer(id, 'apps', Date.now() + i, report, new Date().toISOString()); await devices.recordSeen(id, new Date().toISOString()); return kept; }));
      if (i % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    const cpu = process.cpuUsage(cpu0);
    console.log(`round ${round}: ${N} writes in ${(performance.now() - t0).toFixed(0)} ms, CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms = ${(((cpu.user + cpu.system)) / N).toFixed(1)} µs/write; batches ${batcher.stats.batches}`);
  }
  await db.close();
})();
