/**
 * Replication (docs/architecture.md budget: incremental replication after changing 1 % of a 200 MB volume,
 * bytes stored ≤ 1.5× the changed bytes), next to its floor, raw restic, in the same run:
 *
 * 1. Incremental bytes stored. A plugin volume is filled with 200 MiB of random data, in two
 *    layouts (200 files of 1 MiB; one 200 MiB file), and replicated to a local-folder replica.
 *    Then 1 % (2 MiB) changes (two files rewritten; 2 MiB overwritten in place) and it is
 *    replicated again: bytes added to the repository on disk / changed bytes. The floor is
 *    `restic backup` of an identical directory into a fresh repository, before and after the same
 *    change.
 * 2. Restore throughput. A second plugin instance (new data dir, same REPLICA_URL, same key)
 *    creates the same volume, which restores its newest snapshot; the floor is `restic restore
 *    latest --target <tmp>` of the raw repository, with a fresh restic cache like the new plugin's.
 *
 * Medians of BENCH_RUNS runs (default 3). Prints figures and ratios, never pass or fail. Quick
 * mode (BENCH_QUICK=1): the same 200 files, of 32 KiB each (6.25 MiB), one run.
 *
 *   node -r ./bench/support/register.js bench/replication.bench.ts
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  RunningPlugin,
  TestKey,
  generateKey,
  pluginConfig,
  pluginRoot,
  randomName,
  startPlugin,
  treeDigest,
} from '../test/support/storage-plugin';
import { Bench, runBench } from './support/bench';
import { RESTIC, rawRestic } from './support/raw-restic';
import { repositoryQuiet } from './support/replica';
import { Figure } from './support/results';
import { median, ms, timed } from './support/stats';
import { temporaryFolder } from './support/resources';

const MiB = 1024 * 1024;
/** The volume is FILES files' worth of data; 1 % of it is two files' worth. */
const FILES = 200;

/** One way of laying the volume out in a folder, and one way of changing 1 % of it. */
interface Layout {
  id: string;
  label: string;
  /** How many bytes `change` rewrites: 1 % of the volume. */
  changedBytes: number;
  /** Writes the same random content into every folder given. */
  fill(dirs: string[]): void;
  /** Changes 1 % the same way in every folder given; says what it did. */
  change(dirs: string[]): string;
}

const size = (bytes: number) => (bytes >= MiB ? `${+(bytes / MiB).toFixed(2)} MiB` : `${bytes / 1024} KiB`);

/** The two layouts of FILES × fileBytes (1 MiB: 200 MiB in all). */
function layoutsOf(fileBytes: number): Layout[] {
  const volumeBytes = FILES * fileBytes;
  const changedBytes = 2 * fileBytes;
  return [
    {
      id: 'files',
      label: `${FILES} files of ${size(fileBytes)}`,
      changedBytes,
      fill(dirs) {
        for (let i = 0; i < FILES; i++) {
          const bytes = randomBytes(fileBytes);
          for (const dir of dirs) writeFileSync(join(dir, fileName(i)), bytes);
        }
      },
      change(dirs) {
        const first = randomInt(FILES);
        const second = (first + 1 + randomInt(FILES - 1)) % FILES;
        for (const i of [first, second]) {
          const bytes = randomBytes(fileBytes);
          for (const dir of dirs) writeFileSync(join(dir, fileName(i)), bytes);
        }
        return `rewrote ${fileName(first)} and ${fileName(second)}`;
      },
    },
    {
      id: 'one',
      label: `one ${size(volumeBytes)} file`,
      changedBytes,
      fill(dirs) {
        const fds = dirs.map((dir) => openSync(join(dir, 'volume.bin'), 'w'));
        try {
          for (let at = 0; at < volumeBytes; at += 8 * MiB) {
            const bytes = randomBytes(Math.min(8 * MiB, volumeBytes - at));
            for (const fd of fds) writeAll(fd, bytes, at);
          }
        } finally {
          fds.forEach((fd) => closeSync(fd));
        }
      },
      change(dirs) {
        const offset = randomInt(volumeBytes - changedBytes);
        const bytes = randomBytes(changedBytes);
        for (const dir of dirs) {
          const fd = openSync(join(dir, 'volume.bin'), 'r+');
          try {
            writeAll(fd, bytes, offset);
          } finally {
            closeSync(fd);
          }
        }
        return `overwrote ${size(changedBytes)} in place at offset ${offset}`;
      },
    },
  ];
}

function fileName(i: number): string {
  return `file-${String(i).padStart(3, '0')}.bin`;
}

function writeAll(fd: number, bytes: Buffer, position: number): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** Bytes of every file below `dir`, as stored on disk (file sizes); restic's lock files left out. */
function repositoryBytes(dir: string): number {
  let total = 0;
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        if (!(current === dir && entry.name === 'locks')) walk(path);
      } else if (entry.isFile()) total += statSync(path).size;
    }
  };
  walk(dir);
  return total;
}

function sameTree(expected: Record<string, string>, dir: string, what: string): void {
  const actual = treeDigest(dir);
  const keys = Object.keys(expected);
  if (keys.length !== Object.keys(actual).length || keys.some((k) => actual[k] !== expected[k])) {
    throw new Error(`${what}: the restored folder ${dir} differs from the data it was made from`);
  }
}

function ok<T extends { status: number; text?: string }>(answer: T, what: string): T {
  if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${answer.text ?? JSON.stringify(answer)}`);
  return answer;
}

interface RunFigures {
  what: string;
  changed: number;
  pluginAdded: number;
  rawAdded: number;
  pluginFirst: number;
  rawFirst: number;
  restoredBytes: number;
  pluginRestoreMs: number;
  rawRestoreMs: number;
}

/** The limit of one plugin or restic operation on the volume: generous for 200 MiB on a busy machine. */
const OPERATION_S = 300;

async function oneRun(
  bench: Bench,
  label: string,
  layout: Layout,
  runDir: string,
  plugins: { a: RunningPlugin; b: RunningPlugin; key: TestKey; replicas: string },
  rawFirstInRestore: boolean,
): Promise<RunFigures> {
  const { a, b, key, replicas } = plugins;
  const name = randomName(`bench-${layout.id}`);
  const instance = randomUUID();
  const volumeRequest = (writer: string) => ({ name, instance, role: 'app', fingerprint: key.fingerprint, writer });
  const writerA = randomUUID();
  const writerB = randomUUID();
  const pluginRepo = join(replicas, name);
  const rawRepo = join(runDir, 'raw-repo');
  const rawParent = join(runDir, 'raw');
  const rawData = join(rawParent, 'data'); // named like the plugin's data dir: the same snapshot paths shape
  const rawCache = join(runDir, 'raw-cache');
  mkdirSync(rawData, { recursive: true });
  const step = <T>(what: string, work: () => Promise<T>) => bench.step(`${what} (${label}, ${layout.label})`, OPERATION_S, work);

  // The plugin's volume, filled with the same bytes as the raw folder.
  const mountpoint = await step('POST /volumes on the first plugin', async () => {
    const created = await a.control.createVolume(volumeRequest(writerA));
    if (created.status !== 200 || !created.body?.volume)
      throw new Error(`POST /volumes: ${created.status} ${JSON.stringify(created.body)}`);
    return (await a.control.volume(name)).mountpoint as string;
  });
  layout.fill([mountpoint, rawData]);

  // First replication, and the floor's first backup.
  const replicate = (what: string) =>
    step(`${what} replication, its prune done`, async () => {
      ok(await a.control.request('POST', `/volumes/${name}/replicate`), `${what} replicate`);
      await repositoryQuiet(pluginRepo);
    });
  await replicate('first');
  const pluginFirst = repositoryBytes(pluginRepo);
  await step('raw restic init and first backup', async () => {
    await rawRestic(rawRepo, rawCache, ['init', '--quiet']);
    await rawRestic(rawRepo, rawCache, ['backup', '--quiet', '--host', 'bench', 'data'], rawParent);
  });
  const rawFirst = repositoryBytes(rawRepo);

  // 1 % changed, the same way in both; replicated / backed up again.
  const what = layout.change([mountpoint, rawData]);
  await replicate('second');
  const pluginAdded = repositoryBytes(pluginRepo) - pluginFirst;
  await step('raw restic second backup', () => rawRestic(rawRepo, rawCache, ['backup', '--quiet', '--host', 'bench', 'data'], rawParent));
  const rawAdded = repositoryBytes(rawRepo) - rawFirst;

  const expected = treeDigest(rawData);
  const restoredBytes = Object.keys(expected).reduce((sum, f) => sum + statSync(join(rawData, f)).size, 0);

  // Restore: the second plugin instance creates the volume (restores the newest snapshot) vs raw restic.
  const pluginRestore = () =>
    step('restoring POST /volumes on the second plugin', async () => {
      const { ms: took, value } = await timed(() => b.control.createVolume(volumeRequest(writerB)));
      if (value.status !== 200 || !value.body?.volume)
        throw new Error(`restoring POST /volumes: ${value.status} ${JSON.stringify(value.body)}`);
      return took;
    });
  const rawTarget = join(runDir, 'raw-restore');
  const rawRestore = () =>
    step(
      'raw restic restore',
      async () =>
        (await timed(() => rawRestic(rawRepo, join(runDir, 'raw-restore-cache'), ['restore', 'latest', '--target', rawTarget]))).ms,
    );
  let pluginRestoreMs: number;
  let rawRestoreMs: number;
  if (rawFirstInRestore) {
    rawRestoreMs = await rawRestore();
    pluginRestoreMs = await pluginRestore();
  } else {
    pluginRestoreMs = await pluginRestore();
    rawRestoreMs = await rawRestore();
  }
  sameTree(expected, (await step('GET the restored volume', () => b.control.volume(name))).mountpoint, 'plugin restore');
  sameTree(expected, join(rawTarget, 'data'), 'raw restic restore');

  // Clean up this run: the restored copy, the volume with its replica, the raw folders.
  await step('removing the volume and its replica', async () => {
    ok(await b.control.request('DELETE', `/volumes/${name}?replica=false`), 'DELETE restored volume');
    ok(await a.control.request('DELETE', `/volumes/${name}?replica=true`), 'DELETE volume');
  });
  rmSync(runDir, { recursive: true, force: true });

  return { what, changed: layout.changedBytes, pluginAdded, rawAdded, pluginFirst, rawFirst, restoredBytes, pluginRestoreMs, rawRestoreMs };
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;
const bytesExact = (bytes: number) => `${Math.round(bytes).toLocaleString('en-US')} B`;
const mbps = (bytes: number, millis: number) => (bytes / 1e6 / (millis / 1000)).toFixed(1);
const BUDGET_PER_CHANGED = 1.5;

runBench('replication', {
  totalS: (bench) => 120 + bench.runs(3) * (bench.quick ? 120 : 900),
  async run(bench) {
    const runs = bench.runs(3);
    const fileBytes = bench.quick ? 32 * 1024 : MiB;
    const layouts = layoutsOf(fileBytes);
    const volume = size(FILES * fileBytes);
    const root = await temporaryFolder(bench, () => pluginRoot('bench-repl'));
    const replicas = join(root.path, 'replicas');
    const overrides = { REPLICA_URL: replicas, RESTIC_BINARY: RESTIC };
    const plugin = (name: string) =>
      bench.resource(
        `the ${name} storage plugin`,
        60,
        () => startPlugin(pluginConfig(join(root.path, name), overrides)),
        (p) => p.close(),
      );
    const a = await plugin('a');
    const b = await plugin('b');
    const key = await bench.step('a key, registered with both plugins', 60, async () => {
      const k = await generateKey();
      ok(await a.control.registerKey(k), 'register the key on the first plugin');
      ok(await b.control.registerKey(k), 'register the key on the second plugin');
      return k;
    });
    const byLayout = new Map<string, RunFigures[]>(layouts.map((l) => [l.id, []]));
    for (let i = 0; i < runs; i++) {
      for (const layout of layouts) {
        const f = await oneRun(
          bench,
          `run ${i + 1}/${runs}`,
          layout,
          join(root.path, `run-${i}-${layout.id}`),
          { a, b, key, replicas },
          i % 2 === 0,
        );
        byLayout.get(layout.id)!.push(f);
        console.log(
          `run ${i + 1}/${runs}, ${layout.label}: changed ${mib(f.changed)}, added plugin ${mib(f.pluginAdded)}, raw restic ${mib(f.rawAdded)}` +
            ` (first replication: plugin ${mib(f.pluginFirst)}, raw ${mib(f.rawFirst)});` +
            ` restore ${mib(f.restoredBytes)}: plugin ${ms(f.pluginRestoreMs)}, raw restic ${ms(f.rawRestoreMs)} [${f.what}]`,
        );
      }
    }

    const med = (id: string, pick: (f: RunFigures) => number) => median(byLayout.get(id)!.map(pick));
    const figures: Figure[] = [];
    console.log(`\nincremental replication after changing 1 % of a ${volume} volume, bytes added to the repository, median of ${runs}:`);
    for (const layout of layouts) {
      const changed = med(layout.id, (f) => f.changed);
      const plugin = med(layout.id, (f) => f.pluginAdded);
      const raw = med(layout.id, (f) => f.rawAdded);
      const perChanged = med(layout.id, (f) => f.pluginAdded / f.changed);
      console.log(
        `  ${layout.label}: changed ${bytesExact(changed)}; plugin added ${bytesExact(plugin)}, raw restic added ${bytesExact(raw)}` +
          ` → plugin/changed ${perChanged.toFixed(2)} (budget ${BUDGET_PER_CHANGED}), plugin/raw ${med(layout.id, (f) => f.pluginAdded / f.rawAdded).toFixed(2)}`,
      );
      figures.push({
        figure: `bytes an incremental replication adds after 1 % of ${layout.label} changed (${mib(changed)})`,
        value: plugin / MiB,
        unit: 'MiB',
        floor: { what: 'raw restic backup of the same change', value: raw / MiB },
        budget: { line: `≤ ${BUDGET_PER_CHANGED}× the changed bytes`, judged: `${perChanged.toFixed(2)}×` },
        met: perChanged <= BUDGET_PER_CHANGED,
      });
    }
    console.log(`\nrestore of the ${volume} volume (new plugin instance, cold restic cache on both sides), median of ${runs}:`);
    for (const layout of layouts) {
      const bytes = med(layout.id, (f) => f.restoredBytes);
      const plugin = med(layout.id, (f) => f.pluginRestoreMs);
      const raw = med(layout.id, (f) => f.rawRestoreMs);
      console.log(
        `  ${layout.label}: plugin ${mbps(bytes, plugin)} MB/s (${ms(plugin)}), raw restic ${mbps(bytes, raw)} MB/s (${ms(raw)})` +
          ` → plugin time / raw time ${med(layout.id, (f) => f.pluginRestoreMs / f.rawRestoreMs).toFixed(2)}`,
      );
      figures.push({
        figure: `restore of ${layout.label} by a new plugin (cold cache; ${mbps(bytes, plugin)} MB/s)`,
        value: plugin,
        unit: 'ms',
        floor: { what: `raw restic restore, ${mbps(bytes, raw)} MB/s`, value: raw },
        met: null,
      });
    }
    return {
      runs,
      figures,
      notes: bench.quick ? undefined : ['The performance budget has no restore line: the restore rows are for comparison only.'],
    };
  },
});
