/**
 * Start overhead (budget, docs/architecture.md: ≤ 150 ms over raw compose): from the moment the Device
 * receives SchedulerAction.start to its report.apps saying "running", against a raw
 * `docker compose up -d` of the same project on volumes of the same driver, in the same run. The
 * path is the one users have: the storage plugin runs as its own process from its build
 * (`node dist/apps/storage-plugin/main.js`, how every non-container user runs it; the container
 * runs that same program, only boxed), replicating to a local folder, on an engine of the
 * bench's own that finds the plugin's socket. The Device runs in this process behind a recording
 * Hive, with production Argon2, so "received" is the moment the command reaches it. Two figures:
 * a new project (keys made and protected, volumes created, containers created) and a stopped one
 * (containers started again). Median of BENCH_RUNS runs (default 5); raw and Device take turns
 * going first.
 *
 *   node -r ./bench/support/register.js bench/start-overhead.bench.ts
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadDeviceConfig } from '../apps/device/src/config/load-device-config';
import { appVolumeName, linkVolumeName } from '../apps/device/src/storage/volume-names';
import { staticSiteTemplate, startParams } from '../test/support/compose-templates';
import { RunningDevice, startDevice } from '../test/support/device-harness';
import { IsolatedEngine } from '../test/support/isolated-engine';
import { ControlClient, PluginProcess, TestKey, generateKey, pluginEnv, pluginRoot } from '../test/support/storage-plugin';
import { Bench, runBench } from './support/bench';
import { ensureBuilt } from './support/build';
import { describeStart, startUntilRunning } from './support/device-start';
import { replicaAtRest } from './support/replica';
import { Figure } from './support/results';
import { median, ms, timed } from './support/stats';
import { temporaryFolder, isolatedEngine } from './support/resources';

const runFile = promisify(execFile);
const BUDGET_MS = 150;
const SETUP_S = 240;
const PER_RUN_S = 300;

interface Setup {
  /** A temporary folder for compose files, replicas, the plugin's and the Device's state. */
  root: string;
  engine: IsolatedEngine;
  driver: string;
  control: ControlClient;
  replicas: string;
  device: RunningDevice;
  /** The floor's volumes are the plugin's too, under this key and writer. */
  key: TestKey;
  writer: string;
}

async function setUp(bench: Bench): Promise<Setup> {
  await bench.step('the storage plugin build (dist/apps/storage-plugin/main.js)', 300, () => ensureBuilt('storage-plugin'));
  const root = await temporaryFolder(bench, () => pluginRoot('bench-start'));
  const engine = await isolatedEngine(bench);
  const driver = `mosaic-bench-${randomBytes(3).toString('hex')}`;
  const replicas = join(root.path, 'replicas');
  const env = pluginEnv(join(root.path, 'plugin'), {
    STORAGE_DRIVER: driver,
    DOCKER_PLUGIN_DIR: engine.pluginDir,
    REPLICA_URL: replicas,
    LOG_LEVEL: 'log',
  });
  const plugin = new PluginProcess(env);
  // Stopped however far its start got (it may never say ready).
  bench.cleanup('stopping the storage plugin process', () => plugin.stop());
  await bench.step('the storage plugin process to say it is ready', 60, () => plugin.start());
  // Containers go before the plugin stops: their unmounts need it.
  bench.cleanup("removing the containers on the bench's engine", async () => {
    const ids = (await engine.docker('ps', '-aq')).split('\n').filter(Boolean);
    if (ids.length) await engine.docker('rm', '-f', ...ids);
  });
  const control = new ControlClient(env.STORAGE_PLUGIN_SOCKET);
  const key = await bench.step('a key for the floor, registered with the plugin', 60, async () => {
    const k = await generateKey();
    const answer = await control.registerKey(k);
    if (answer.status !== 200) throw new Error(`PUT /keys: ${answer.status} ${answer.text}`);
    return k;
  });
  const loaded = loadDeviceConfig({
    HIVE_URL: 'http://127.0.0.1:9',
    DEVICE_TOKEN: 'bench',
    DEVICE_PASSPHRASE: 'bench passphrase, production Argon2',
    APPS_DIR: join(root.path, 'apps'),
    STATE_DIR: join(root.path, 'state'),
    VOLUMES_DIR: join(root.path, 'plugin', 'data'),
    DOCKER_HOST: `unix://${engine.socket}`,
    STORAGE_DRIVER: driver,
    STORAGE_PLUGIN_SOCKET: env.STORAGE_PLUGIN_SOCKET,
    MONITOR_ADDRESS: '127.0.0.1:0',
    LOG_LEVEL: 'error',
  });
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const device = await bench.resource(
    'the Device',
    60,
    () => startDevice(loaded.config),
    (d) => d.close(),
  );
  return { root: root.path, engine, driver, control, replicas, device, key, writer: randomUUID() };
}

/** Both volumes of an instance unmounted, replicated and their repositories unlocked. */
async function atRest(bench: Bench, s: Setup, instance: string, what: string): Promise<void> {
  await bench.step(`the plugin at rest after ${what} (replication and prune done)`, 600, () =>
    Promise.all([appVolumeName(instance), linkVolumeName(instance)].map((name) => replicaAtRest(s.control, name, join(s.replicas, name)))),
  );
}

/** An instance's two volumes, as a user removes them (the plugin replicates once more and keeps the replica), so each run finds the engine as the first did. */
async function removeVolumes(bench: Bench, s: Setup, instance: string, whose: string): Promise<void> {
  await bench.step(`docker volume rm of ${whose} volumes`, 300, () =>
    s.engine.docker('volume', 'rm', appVolumeName(instance), linkVolumeName(instance)),
  );
}

/** Raw `docker compose up -d` of the same project on plugin volumes: new (creates), then stopped (starts). */
async function rawCompose(bench: Bench, s: Setup, dir: string, label: string): Promise<{ fresh: number; again: number }> {
  const instance = randomUUID();
  const project = `mosaic-${instance}`;
  const volumes = { app: appVolumeName(instance), link: linkVolumeName(instance) };
  await bench.step(`the floor's two plugin volumes (${label})`, 120, async () => {
    for (const [role, name] of Object.entries(volumes)) {
      const created = await s.control.createVolume({ name, instance, role, fingerprint: s.key.fingerprint, writer: s.writer });
      if (created.status !== 200) throw new Error(`POST /volumes ${name}: ${created.status} ${JSON.stringify(created.body)}`);
      await s.engine.docker('volume', 'create', '--driver', s.driver, name);
    }
  });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, staticSiteTemplate());
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: `unix://${s.engine.socket}`,
    APP_INSTANCE: instance,
    APP_VOLUME_NAME: volumes.app,
    LINK_VOLUME_NAME: volumes.link,
    LINK_DOMAIN_DEFAULT: 'bench.example.net',
  };
  const compose = (what: string, ...args: string[]) =>
    bench.step(`raw docker compose ${args.join(' ')}, ${what} (${label})`, 120, () =>
      runFile('docker', ['compose', '-p', project, '-f', file, ...args], { env, timeout: 120_000 }),
    );
  const fresh = await timed(() => compose('new project', 'up', '-d'));
  await compose('new project', 'stop');
  await atRest(bench, s, instance, `raw compose stop (${label})`);
  const again = await timed(() => compose('stopped project', 'up', '-d'));
  await compose('cleanup', 'down');
  await removeVolumes(bench, s, instance, `the floor's (${label})`);
  return { fresh: fresh.ms, again: again.ms };
}

/** The Device: SchedulerAction.start → report.apps running, new project then stopped; its time for each. */
async function deviceStarts(bench: Bench, s: Setup, label: string): Promise<{ fresh: number; again: number }> {
  const instance = randomUUID();
  const { device } = s;
  const start = (what: string) =>
    bench.step(`report.apps saying running after SchedulerAction.start of a ${what} (${label})`, PER_RUN_S / 2, async () => {
      const times = await startUntilRunning(device, startParams(instance, staticSiteTemplate()));
      console.log(`  ${label}, Device, ${what}: ${describeStart(times, ms)}`);
      return times.runningAt - times.receivedAt;
    });
  const stop = (params: object) =>
    bench.step(`command.result of SchedulerAction.stop ${JSON.stringify(params)} (${label})`, 300, async () => {
      const { result } = await device.command('SchedulerAction.stop', params);
      if (!result?.ok) throw new Error(`the stop failed: ${JSON.stringify(result)}`);
    });
  const fresh = await start('new project');
  await stop({ instance });
  await atRest(bench, s, instance, `the Device's stop (${label})`);
  const again = await start('stopped project');
  await stop({ instance, remove: true, replicate: false });
  await removeVolumes(bench, s, instance, `the Device's (${label})`);
  return { fresh, again };
}

runBench('start-overhead', {
  totalS: (bench) => SETUP_S + bench.runs(5) * PER_RUN_S,
  async run(bench) {
    const runs = bench.runs(5);
    const s = await setUp(bench);
    const raw = { fresh: [] as number[], again: [] as number[] };
    const dev = { fresh: [] as number[], again: [] as number[] };
    for (let i = 0; i < runs; i++) {
      const label = `run ${i + 1}/${runs}`;
      const rawRun = () => rawCompose(bench, s, join(s.root, `raw-${i}`), label);
      const deviceRun = () => deviceStarts(bench, s, label);
      // Taking turns going first keeps a warm cache from favouring one side.
      let r: { fresh: number; again: number };
      let d: { fresh: number; again: number };
      if (i % 2 === 0) {
        r = await rawRun();
        d = await deviceRun();
      } else {
        d = await deviceRun();
        r = await rawRun();
      }
      raw.fresh.push(r.fresh);
      raw.again.push(r.again);
      dev.fresh.push(d.fresh);
      dev.again.push(d.again);
      console.log(
        `${label}: new project: raw ${ms(r.fresh)}, device ${ms(d.fresh)}; stopped project: raw ${ms(r.again)}, device ${ms(d.again)}`,
      );
    }
    const figure = (what: string, device: number[], floor: number[]): Figure => {
      const overhead = median(device) - median(floor);
      console.log(
        `  ${what}: device ${ms(median(device))}, raw compose ${ms(median(floor))} → overhead ${ms(overhead)} (budget ${BUDGET_MS} ms)`,
      );
      return {
        figure: what,
        value: median(device),
        unit: 'ms',
        floor: { what: 'raw docker compose up -d, same volumes', value: median(floor) },
        budget: { line: `overhead ≤ ${BUDGET_MS} ms`, judged: `overhead ${ms(overhead)}` },
        met: overhead <= BUDGET_MS,
      };
    };
    console.log(`\nstart, command received → report.apps running, median of ${runs}:`);
    return {
      runs,
      figures: [
        figure('start of a stopped project (keys in memory)', dev.again, raw.again),
        figure('first start of a new project (two keys protected with Argon2id 64 MiB, keys.put, two volumes)', dev.fresh, raw.fresh),
      ],
    };
  },
});
