/**
 * Failover time (docs/architecture.md budget ≤ 1.3×): an app with 100 MB of data stopped on device A with
 * its final replication, then started with `failover: true` on device B (keys from "Hive",
 * writer taken over, volumes restored, compose up) until B reports it running, against raw restic
 * backup + restore of the same 100 MB in the same run. Two real engines, two real storage plugins,
 * one local replica folder. Median of BENCH_RUNS runs (default 3).
 *
 *   node -r ./bench/support/register.js bench/failover.bench.ts
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Events } from '@mosaic/protocol';
import { RecordingHive, tempRoot } from '../test/support/device-harness';
import { DeviceStack, startDeviceStack } from '../test/support/device-stack';
import { median, ms, runsFromEnv, timed } from './support/stats';

const run = promisify(execFile);
const DATA_MB = 100;

const TEMPLATE = `
x-mosaic:
  commands:
    fill:
      service: app
      argv: ["dd", "if=/dev/urandom", "of=/data/blob", "bs=1048576", "count=${DATA_MB}"]
      timeoutSeconds: 300
services:
  app:
    image: mosaic-test/busybox
    command: ["sleep", "86400"]
    stop_grace_period: 1s
    volumes: ["data:/data"]
volumes:
  data:
    external: true
    name: \${APP_VOLUME_NAME}
`;

function startParams(instance: string, failover: boolean) {
  return {
    instance,
    application: { appstore: 'Bench', name: 'filler', version: '1.0.0' },
    compose: TEMPLATE,
    links: { default: { domain: 'bench.example.net', token: 'bench-token' } },
    variables: {},
    failover,
  };
}

async function restic(repo: string, args: string[], cwd?: string): Promise<void> {
  await run('restic', args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: 'bench' } });
}

async function main(): Promise<void> {
  const runs = runsFromEnv(3);
  const root = tempRoot('bench-failover');
  const replicas = join(root.path, 'replicas');
  mkdirSync(replicas, { recursive: true });
  const hiveA = new RecordingHive();
  const hiveB = new RecordingHive();
  const a: DeviceStack = await startDeviceStack(join(root.path, 'a'), { replicaUrl: replicas, hive: hiveA, device: { argon2: { passes: 3, parallelism: 4, memoryExponent: 16 } } });
  const b: DeviceStack = await startDeviceStack(join(root.path, 'b'), { replicaUrl: replicas, hive: hiveB, device: { argon2: { passes: 3, parallelism: 4, memoryExponent: 16 } } });
  const device: number[] = [];
  const raw: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const instance = randomUUID();
      const started = await a.device.command('SchedulerAction.start', startParams(instance, false));
      if (!started.result?.ok) throw new Error(`start on A failed: ${JSON.stringify(started.result)}`);
      const filled = await a.device.command('AppCommand.run', { instance, command: 'fill' });
      if (filled.result?.result?.exitCode !== 0) throw new Error(`fill failed: ${JSON.stringify(filled.result)}`);
      const volume = (await a.plugin.control.request('GET', `/volumes/mosaic-${instance}-app`)).body;
      for (const [id, keys] of hiveA.keys) hiveB.keys.set(id, keys); // what Hive holds

      const from = hiveB.emitted.length;
      const failover = await timed(async () => {
        const stopped = await a.device.command('SchedulerAction.stop', { instance, replicate: true });
        if (!stopped.result?.ok) throw new Error(`stop on A failed: ${JSON.stringify(stopped.result)}`);
        const start = b.device.command('SchedulerAction.start', startParams(instance, true));
        await hiveB.next((e) => e.event === Events.reportApps && e.payload.apps.some((x: any) => x.instance === instance && x.state === 'running'), from);
        const result = (await start).result;
        if (!result?.ok) throw new Error(`failover start on B failed: ${JSON.stringify(result)}`);
      });
      device.push(failover.ms);

      // The floor: raw restic, the same bytes, a fresh repository.
      const repo = join(root.path, `raw-${i}`);
      await restic(repo, ['init', '--quiet']);
      const floor = await timed(async () => {
        await restic(repo, ['backup', '--quiet', '.'], volume.mountpoint);
        await restic(repo, ['restore', '--quiet', 'latest', '--target', join(root.path, `raw-restore-${i}-${randomBytes(3).toString('hex')}`)]);
      });
      raw.push(floor.ms);
      process.stdout.write(`run ${i + 1}/${runs}: failover ${ms(failover.ms)}, raw restic backup + restore ${ms(floor.ms)}\n`);
      await b.device.command('SchedulerAction.stop', { instance, replicate: false, remove: true });
    }
  } finally {
    await a.close();
    await b.close();
    root.remove();
  }
  const ratio = median(device) / median(raw);
  console.log(`\nfailover of ${DATA_MB} MB (median of ${runs}): ${ms(median(device))} vs raw restic ${ms(median(raw))} → ${ratio.toFixed(2)}× (budget 1.3×)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
