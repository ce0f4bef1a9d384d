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
 * Medians of BENCH_RUNS runs (default 3). Prints figures and ratios, never pass or fail.
 *
 *   node -r ./bench/support/register.js bench/replication.bench.ts
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
import { median, ms, runsFromEnv, timed } from './support/stats';

const run = promisify(execFile);

const MiB = 1024 * 1024;
const VOLUME_BYTES = 200 * MiB;
const CHANGED_BYTES = 2 * MiB; // 1 %
const RESTIC = process.env.RESTIC_BINARY ?? '/usr/bin/restic';

/** One way of laying 200 MiB out in a folder, and one way of changing 1 % of it. */
interface Layout {
  id: string;
  label: string;
  /** Writes the same random content into every folder given. */
  fill(dirs: string[]): void;
  /** Changes CHANGED_BYTES the same way in every folder given; says what it did. */
  change(dirs: string[]): string;
}

const layouts: Layout[] = [
  {
    id: 'files',
    label: '200 files of 1 MiB',
    fill(dirs) {
      for (let i = 0; i < VOLUME_BYTES / MiB; i++) {
        const bytes = randomBytes(MiB);
        for (const dir of dirs) writeFileSync(join(dir, fileName(i)), bytes);
      }
    },
    change(dirs) {
      const count = VOLUME_BYTES / MiB;
      const first = randomInt(count);
      const second = (first + 1 + randomInt(count - 1)) % count;
      for (const i of [first, second]) {
        const bytes = randomBytes(MiB);
        for (const dir of dirs) writeFileSync(join(dir, fileName(i)), bytes);
      }
      return `rewrote ${fileName(first)} and ${fileName(second)}`;
    },
  },
  {
    id: 'one',
    label: 'one 200 MiB file',
    fill(dirs) {
      const fds = dirs.map((dir) => openSync(join(dir, 'volume.bin'), 'w'));
      try {
        for (let at = 0; at < VOLUME_BYTES; at += 8 * MiB) {
          const bytes = randomBytes(8 * MiB);
          for (const fd of fds) writeAll(fd, bytes, at);
        }
      } finally {
        fds.forEach((fd) => closeSync(fd));
      }
    },
    change(dirs) {
      const offset = randomInt(VOLUME_BYTES - CHANGED_BYTES);
      const bytes = randomBytes(CHANGED_BYTES);
      for (const dir of dirs) {
        const fd = openSync(join(dir, 'volume.bin'), 'r+');
        try {
          writeAll(fd, bytes, offset);
        } finally {
          closeSync(fd);
        }
      }
      return `overwrote 2 MiB in place at offset ${offset}`;
    },
  },
];

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

/**
 * The plugin prunes in the background after a snapshot (forget --prune, its own restic run with a
 * lock): wait until the repository has had no lock for a while before measuring or going on.
 */
async function quiet(repo: string, forMs = 1000, timeoutMs = 60_000): Promise<void> {
  const locks = join(repo, 'locks');
  const deadline = Date.now() + timeoutMs;
  let since = Date.now();
  for (;;) {
    const held = existsSync(locks) && readdirSync(locks).length > 0;
    if (held) since = Date.now();
    else if (Date.now() - since >= forMs) return;
    if (Date.now() > deadline) throw new Error(`the repository ${repo} stayed locked for ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Raw restic, as a child with an argv array; the repository and its password only in its environment. */
function restic(repo: string, cacheDir: string, args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return run(RESTIC, args, {
    cwd,
    maxBuffer: 64 * MiB,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      RESTIC_REPOSITORY: repo,
      RESTIC_PASSWORD: 'raw restic floor of the replication bench',
      RESTIC_CACHE_DIR: cacheDir,
    },
  });
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

async function oneRun(
  layout: Layout,
  runDir: string,
  a: RunningPlugin,
  b: RunningPlugin,
  key: TestKey,
  replicas: string,
  rawFirstInRestore: boolean,
): Promise<RunFigures> {
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

  // The plugin's volume, filled with the same bytes as the raw folder.
  const created = await a.control.createVolume(volumeRequest(writerA));
  if (created.status !== 200 || !created.body?.volume) throw new Error(`POST /volumes: ${created.status} ${JSON.stringify(created.body)}`);
  const mountpoint: string = (await a.control.volume(name)).mountpoint;
  layout.fill([mountpoint, rawData]);

  // First replication, and the floor's first backup.
  ok(await a.control.request('POST', `/volumes/${name}/replicate`), 'first replicate');
  await quiet(pluginRepo);
  const pluginFirst = repositoryBytes(pluginRepo);
  await restic(rawRepo, rawCache, ['init', '--quiet']);
  await restic(rawRepo, rawCache, ['backup', '--quiet', '--host', 'bench', 'data'], rawParent);
  const rawFirst = repositoryBytes(rawRepo);

  // 1 % changed, the same way in both; replicated / backed up again.
  const what = layout.change([mountpoint, rawData]);
  ok(await a.control.request('POST', `/volumes/${name}/replicate`), 'second replicate');
  await quiet(pluginRepo);
  const pluginAdded = repositoryBytes(pluginRepo) - pluginFirst;
  await restic(rawRepo, rawCache, ['backup', '--quiet', '--host', 'bench', 'data'], rawParent);
  const rawAdded = repositoryBytes(rawRepo) - rawFirst;

  const expected = treeDigest(rawData);
  const restoredBytes = Object.keys(expected).reduce((sum, f) => sum + statSync(join(rawData, f)).size, 0);

  // Restore: the second plugin instance creates the volume (restores the newest snapshot) vs raw restic.
  const pluginRestore = async () => {
    const { ms: took, value } = await timed(() => b.control.createVolume(volumeRequest(writerB)));
    if (value.status !== 200 || !value.body?.volume)
      throw new Error(`restoring POST /volumes: ${value.status} ${JSON.stringify(value.body)}`);
    return took;
  };
  const rawTarget = join(runDir, 'raw-restore');
  const rawRestore = async () =>
    (await timed(() => restic(rawRepo, join(runDir, 'raw-restore-cache'), ['restore', 'latest', '--target', rawTarget]))).ms;
  let pluginRestoreMs: number;
  let rawRestoreMs: number;
  if (rawFirstInRestore) {
    rawRestoreMs = await rawRestore();
    pluginRestoreMs = await pluginRestore();
  } else {
    pluginRestoreMs = await pluginRestore();
    rawRestoreMs = await rawRestore();
  }
  sameTree(expected, (await b.control.volume(name)).mountpoint, 'plugin restore');
  sameTree(expected, join(rawTarget, 'data'), 'raw restic restore');

  // Clean up this run: the restored copy, the volume with its replica, the raw folders.
  ok(await b.control.request('DELETE', `/volumes/${name}?replica=false`), 'DELETE restored volume');
  ok(await a.control.request('DELETE', `/volumes/${name}?replica=true`), 'DELETE volume');
  rmSync(runDir, { recursive: true, force: true });

  return { what, changed: CHANGED_BYTES, pluginAdded, rawAdded, pluginFirst, rawFirst, restoredBytes, pluginRestoreMs, rawRestoreMs };
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`;
const bytesExact = (bytes: number) => `${Math.round(bytes).toLocaleString('en-US')} B`;
const mbps = (bytes: number, millis: number) => `${(bytes / 1e6 / (millis / 1000)).toFixed(1)} MB/s`;

async function main(): Promise<void> {
  const runs = runsFromEnv(3);
  const root = pluginRoot('bench-repl');
  const replicas = join(root.path, 'replicas');
  const overrides = { REPLICA_URL: replicas, RESTIC_BINARY: RESTIC };
  let a: RunningPlugin | undefined;
  let b: RunningPlugin | undefined;
  const figures = new Map<string, RunFigures[]>(layouts.map((l) => [l.id, []]));
  try {
    const key = await generateKey();
    a = await startPlugin(pluginConfig(join(root.path, 'a'), overrides));
    b = await startPlugin(pluginConfig(join(root.path, 'b'), overrides));
    ok(await a.control.registerKey(key), 'register the key on the first plugin');
    ok(await b.control.registerKey(key), 'register the key on the second plugin');
    for (let i = 0; i < runs; i++) {
      for (const layout of layouts) {
        const f = await oneRun(layout, join(root.path, `run-${i}-${layout.id}`), a, b, key, replicas, i % 2 === 0);
        figures.get(layout.id)!.push(f);
        process.stdout.write(
          `run ${i + 1}/${runs}, ${layout.label}: changed ${mib(f.changed)}, added plugin ${mib(f.pluginAdded)}, raw restic ${mib(f.rawAdded)}` +
            ` (first replication: plugin ${mib(f.pluginFirst)}, raw ${mib(f.rawFirst)});` +
            ` restore ${mib(f.restoredBytes)}: plugin ${ms(f.pluginRestoreMs)}, raw restic ${ms(f.rawRestoreMs)} [${f.what}]\n`,
        );
      }
    }
  } finally {
    await b?.close();
    await a?.close();
    root.remove();
  }

  const med = (id: string, pick: (f: RunFigures) => number) => median(figures.get(id)!.map(pick));
  console.log(`\nincremental replication after changing 1 % of a 200 MiB volume, bytes added to the repository, median of ${runs}:`);
  for (const layout of layouts) {
    const changed = med(layout.id, (f) => f.changed);
    const plugin = med(layout.id, (f) => f.pluginAdded);
    const raw = med(layout.id, (f) => f.rawAdded);
    const perChanged = med(layout.id, (f) => f.pluginAdded / f.changed);
    const perRaw = med(layout.id, (f) => f.pluginAdded / f.rawAdded);
    console.log(
      `  ${layout.label}: changed ${bytesExact(changed)}; plugin added ${bytesExact(plugin)}, raw restic added ${bytesExact(raw)}` +
        ` → plugin/changed ${perChanged.toFixed(2)} (budget 1.5), plugin/raw ${perRaw.toFixed(2)}`,
    );
  }
  console.log(`\nrestore of the 200 MiB volume (new plugin instance, cold restic cache on both sides), median of ${runs}:`);
  for (const layout of layouts) {
    const bytes = med(layout.id, (f) => f.restoredBytes);
    const plugin = med(layout.id, (f) => f.pluginRestoreMs);
    const raw = med(layout.id, (f) => f.rawRestoreMs);
    const ratio = med(layout.id, (f) => f.pluginRestoreMs / f.rawRestoreMs);
    console.log(
      `  ${layout.label}: plugin ${mbps(bytes, plugin)} (${ms(plugin)}), raw restic ${mbps(bytes, raw)} (${ms(raw)})` +
        ` → plugin time / raw time ${ratio.toFixed(2)}`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
