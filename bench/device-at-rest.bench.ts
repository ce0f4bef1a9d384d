/**
 * Device at rest (budget in docs/architecture.md; this bench compares with RSS ≤ 120 MB, CPU < 1 %, flat over hours): a
 * Device process connected to a Hive, with its storage plugin and two running apps on an engine
 * of its own, left alone with the production report intervals. Its RSS and CPU time are read
 * from /proc every BENCH_SAMPLE_S (default 10) for BENCH_SECONDS (default 300) after a warm-up,
 * and the RSS trend is fitted (MiB per hour). The floor is an idle `node -e` process sampled the
 * same way, so the figure can be read as "what the Device adds to Node itself".
 *
 *   node -r ./bench/support/register.js bench/device-at-rest.bench.ts
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { E2E_PASSPHRASE, installCatalogApp, startE2eHive } from '../test/support/e2e-hive';
import { tempRoot } from '../test/support/device-harness';
import { DeviceProcess } from '../test/support/device-process';
import { IsolatedEngine } from '../test/support/isolated-engine';
import { pluginConfig, startPlugin } from '../test/support/storage-plugin';
import { ProcSample, cpuPercent, mib, rssSlopeMibPerHour, sampleProcess } from './support/proc-usage';

const seconds = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sampleFor(pids: number[], windowS: number, everyS: number): Promise<ProcSample[][]> {
  const series: ProcSample[][] = pids.map((pid) => [sampleProcess(pid)]);
  for (let t = 0; t < windowS; t += everyS) {
    await sleep(everyS * 1000);
    pids.forEach((pid, i) => series[i].push(sampleProcess(pid)));
  }
  return series;
}

function summary(name: string, samples: ProcSample[]): string {
  const rss = samples.map((s) => s.rssBytes);
  return [
    name.padEnd(22),
    `RSS first ${mib(rss[0])}, last ${mib(rss[rss.length - 1])}, max ${mib(Math.max(...rss))}`.padEnd(56),
    `trend ${rssSlopeMibPerHour(samples).toFixed(1)} MiB/h`.padEnd(20),
    `CPU ${cpuPercent(samples[0], samples[samples.length - 1]).toFixed(2)} %`,
  ].join('');
}

async function main(): Promise<void> {
  const windowS = seconds('BENCH_SECONDS', 300);
  const everyS = seconds('BENCH_SAMPLE_S', 10);
  const warmupS = seconds('BENCH_WARMUP_S', 60);
  const root = tempRoot('bench-rest');
  const engine = await IsolatedEngine.start();
  const driver = `mosaic-bench-${randomBytes(3).toString('hex')}`;
  const plugin = await startPlugin(pluginConfig(join(root.path, 'plugin'), { STORAGE_DRIVER: driver, DOCKER_PLUGIN_DIR: engine.pluginDir }));
  const hive = await startE2eHive(join(root.path, 'hive.db'));
  const idleNode = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  let device: DeviceProcess | undefined;
  try {
    const created = await hive.api.post('/api/devices', { name: 'at-rest' });
    device = new DeviceProcess({
      HIVE_URL: hive.url,
      DEVICE_TOKEN: created.body.token,
      DEVICE_PASSPHRASE: E2E_PASSPHRASE,
      DOCKER_HOST: `unix://${engine.socket}`,
      STORAGE_DRIVER: driver,
      STORAGE_PLUGIN_SOCKET: plugin.config.controlSocket,
      APPS_DIR: join(root.path, 'apps'),
      STATE_DIR: join(root.path, 'state'),
      VOLUMES_DIR: plugin.config.dataDir,
      LOG_LEVEL: 'log',
    });
    await device.waitForLine(/authenticated as device/);
    for (const title of ['first', 'second']) await installCatalogApp(hive.api, created.body.id, 'static-site', { SITE_TITLE: `At rest ${title}` });
    process.stdout.write(`device ${device.pid} runs 2 apps; warming up ${warmupS} s, then sampling every ${everyS} s for ${windowS} s\n`);
    await sleep(warmupS * 1000);
    const [deviceSamples, nodeSamples] = await sampleFor([device.pid, idleNode.pid!], windowS, everyS);

    process.stdout.write(`\n${summary('Device (2 apps)', deviceSamples)}\n${summary('floor: idle node -e', nodeSamples)}\n`);
    const maxRss = Math.max(...deviceSamples.map((s) => s.rssBytes));
    const cpu = cpuPercent(deviceSamples[0], deviceSamples[deviceSamples.length - 1]);
    process.stdout.write(
      `\nbudget: RSS ≤ 120 MB → ${(maxRss / 1e6).toFixed(0)} MB ${maxRss <= 120e6 ? 'within' : 'OVER'}; ` +
        `CPU < 1 % → ${cpu.toFixed(2)} % ${cpu < 1 ? 'within' : 'OVER'}; ` +
        `"flat over hours" is a ${windowS} s window here: the trend says which way it goes\n`,
    );
  } finally {
    idleNode.kill();
    await device?.stop();
    await hive.close();
    await plugin.close();
    await engine.stop();
    root.remove();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
