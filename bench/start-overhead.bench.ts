/**
 * Start overhead (budget in docs/architecture.md; this bench compares with 300 ms): from the moment the device receives
 * SchedulerAction.start to its report.apps saying "running", minus a raw `docker compose up -d`
 * of the same project on the same engine, in the same run. Median of BENCH_RUNS runs (default 5).
 *
 *   node -r ./bench/support/register.js bench/start-overhead.bench.ts
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Events } from '@mosaic/protocol';
import { loadDeviceConfig } from '../apps/device/src/config/load-device-config';
import { staticSiteTemplate, startParams } from '../test/support/compose-templates';
import { startDevice, tempRoot } from '../test/support/device-harness';
import { engine, removeInstance } from '../test/support/engine';
import { median, ms, runsFromEnv, timed } from './support/stats';

const run = promisify(execFile);

/** Raw `docker compose up -d` of the same project: once new (creates), once stopped (starts). */
async function rawComposeUp(dir: string, instance: string): Promise<{ fresh: number; again: number }> {
  const project = `mosaic-${instance}`;
  for (const role of ['app', 'link']) await engine.createVolume({ Name: `${project}-${role}` });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, staticSiteTemplate());
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', APP_INSTANCE: instance, APP_VOLUME_NAME: `${project}-app`, LINK_VOLUME_NAME: `${project}-link`, LINK_DOMAIN_DEFAULT: 'bench.example.net' };
  const compose = (...args: string[]) => run('docker', ['compose', '-p', project, '-f', file, ...args], { env });
  const fresh = await timed(() => compose('up', '-d'));
  await compose('stop');
  const again = await timed(() => compose('up', '-d'));
  await removeInstance(instance);
  return { fresh: fresh.ms, again: again.ms };
}

async function main(): Promise<void> {
  const runs = runsFromEnv(5);
  const root = tempRoot('bench-start');
  const loaded = loadDeviceConfig({
    HIVE_URL: 'http://127.0.0.1:9',
    DEVICE_TOKEN: 'bench',
    DEVICE_PASSPHRASE: 'bench passphrase, production Argon2',
    APPS_DIR: join(root.path, 'apps'),
    STATE_DIR: join(root.path, 'state'),
    VOLUMES_DIR: root.path,
    LOG_LEVEL: 'error',
  });
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const device = await startDevice(loaded.config);
  const rawFresh: number[] = [];
  const rawAgain: number[] = [];
  const firstStart: number[] = [];
  const restart: number[] = [];
  try {
    const untilRunning = async (instance: string, send: () => Promise<{ result: any }>) => {
      const from = device.hive.emitted.length;
      let command!: Promise<{ result: any }>;
      const { ms: took } = await timed(async () => {
        command = send();
        await device.hive.next((e) => e.event === Events.reportApps && e.payload.apps.some((a: any) => a.instance === instance && a.state === 'running'), from);
      });
      const { result } = await command;
      if (!result?.ok) throw new Error(`start failed: ${JSON.stringify(result)}`);
      return took;
    };
    for (let i = 0; i < runs; i++) {
      const raw = await rawComposeUp(join(root.path, `raw-${i}`), randomUUID());
      rawFresh.push(raw.fresh);
      rawAgain.push(raw.again);
      const instance = randomUUID();
      firstStart.push(await untilRunning(instance, () => device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()))));
      await device.command('SchedulerAction.stop', { instance });
      restart.push(await untilRunning(instance, () => device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()))));
      await device.command('SchedulerAction.stop', { instance, remove: true });
      await removeInstance(instance);
      process.stdout.write(
        `run ${i + 1}/${runs}: new project: raw ${ms(rawFresh[i])}, device ${ms(firstStart[i])}; stopped project: raw ${ms(rawAgain[i])}, device ${ms(restart[i])}\n`,
      );
    }
  } finally {
    await device.close();
    root.remove();
  }
  const line = (what: string, device: number[], floor: number[]) =>
    console.log(`  ${what}: device ${ms(median(device))}, raw compose ${ms(median(floor))} → overhead ${ms(median(device) - median(floor))} (budget 300 ms)`);
  console.log(`\nstart overhead, command received → report.apps running, median of ${runs}:`);
  line('start of a stopped instance (keys in memory)', restart, rawAgain);
  line('first start of a new instance (incl. two keys protected with Argon2 64 MiB, keys.put)', firstStart, rawFresh);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
