import { Logger } from '@nestjs/common';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pluginConfig, pluginRoot } from '../../../../test/support/storage-plugin';
import { ResticAdapter, ResticError } from './restic.adapter';
import { CPU_PROGRESS_MIN_MS, IO_PROGRESS_MIN_BYTES, ResticProgress, StallWatchdog, processWork } from './stall-watchdog';

const status = (done: number) => `{"message_type":"status","seconds_elapsed":1,"percent_done":${done / 100},"bytes_done":${done}}\n`;

describe('ResticProgress', () => {
  it('counts a status line only when it says more is done, and any other output', () => {
    const progress = new ResticProgress();
    expect(progress.feed(status(1))).toBe(true);
    expect(progress.feed(status(1) + status(1))).toBe(false); // restic repeats itself while it waits
    expect(progress.feed(status(2))).toBe(true);
    expect(progress.feed('{"message_type":"summary","snapshot_id":"ab"}\n')).toBe(true);
    expect(progress.feed('\n\n')).toBe(false);
  });

  it('judges a line once it is whole, across chunks', () => {
    const progress = new ResticProgress();
    const line = status(5);
    expect(progress.feed(line.slice(0, 20))).toBe(false);
    expect(progress.feed(line.slice(20))).toBe(true);
    expect(progress.feed(line.slice(0, 20))).toBe(false);
    expect(progress.feed(line.slice(20))).toBe(false);
  });
});

describe('StallWatchdog', () => {
  let now: number;
  let work: { ioBytes: number; cpuMs: number } | undefined;
  let stalled: jest.Mock;
  let watchdog: StallWatchdog;

  beforeEach(() => {
    jest.useFakeTimers();
    now = 0;
    work = { ioBytes: 0, cpuMs: 0 };
    stalled = jest.fn();
    watchdog = new StallWatchdog(
      10_000,
      () => work && { ...work },
      stalled,
      () => now,
    );
    watchdog.start();
  });

  afterEach(() => {
    watchdog.stop();
    jest.useRealTimers();
  });

  const pass = (ms: number) => {
    now += ms;
    jest.advanceTimersByTime(ms);
  };

  it('fires once after the stall time without progress', () => {
    pass(9_999);
    expect(stalled).not.toHaveBeenCalled();
    pass(2_500);
    expect(stalled).toHaveBeenCalledTimes(1);
    pass(60_000);
    expect(stalled).toHaveBeenCalledTimes(1);
  });

  it('waits again from each sign of progress', () => {
    pass(7_500);
    watchdog.progressed();
    pass(7_500);
    expect(stalled).not.toHaveBeenCalled();
    pass(5_000);
    expect(stalled).toHaveBeenCalledTimes(1);
  });

  it('takes reads and writes as progress, but not the few bytes of an idle process', () => {
    for (let i = 0; i < 8; i++) {
      work!.ioBytes += IO_PROGRESS_MIN_BYTES; // a slow upload: 4 KiB every 2.5 s
      pass(2_500);
    }
    expect(stalled).not.toHaveBeenCalled();
    for (let i = 0; i < 8; i++) {
      work!.ioBytes += 64; // its poller waking up
      work!.cpuMs += 1;
      pass(2_500);
    }
    expect(stalled).toHaveBeenCalledTimes(1);
  });

  it('takes CPU work as progress (a key derivation reads and writes nothing), but not the moments of an idle process', () => {
    for (let i = 0; i < 8; i++) {
      work!.cpuMs += CPU_PROGRESS_MIN_MS; // scrypt on a machine busy with other work
      pass(2_500);
    }
    expect(stalled).not.toHaveBeenCalled();
    for (let i = 0; i < 8; i++) {
      work!.cpuMs += CPU_PROGRESS_MIN_MS - 10;
      pass(2_500);
    }
    expect(stalled).toHaveBeenCalledTimes(1);
  });

  it('goes by the output alone where /proc cannot tell', () => {
    work = undefined;
    pass(12_500);
    expect(stalled).toHaveBeenCalledTimes(1);
  });
});

describe('processWork', () => {
  it("counts this process's reads and writes and its CPU time, and nothing for a process that is not there", () => {
    const before = processWork(process.pid)!;
    writeFileSync(join(tmpdir(), `mosaic-io-${process.pid}`), Buffer.alloc(100_000));
    rmSync(join(tmpdir(), `mosaic-io-${process.pid}`));
    const busyUntil = process.cpuUsage();
    while (process.cpuUsage(busyUntil).user < 100_000); // 100 ms of CPU
    const after = processWork(process.pid)!;
    expect(after.ioBytes - before.ioBytes).toBeGreaterThanOrEqual(100_000);
    expect(after.cpuMs - before.cpuMs).toBeGreaterThanOrEqual(80); // /proc counts in 10 ms ticks
    expect(processWork(2 ** 22 + 7)).toBeUndefined();
  });
});

/**
 * The adapter with stand-in restic binaries (node scripts) and RESTIC_STALL_TIMEOUT_S=1: one that
 * waits for ever repeating its status line (and ignores SIGTERM, as restic stuck unlocking does),
 * one that moves slowly, one that only writes files.
 */
describe('ResticAdapter and a restic that makes no progress', () => {
  const root = pluginRoot('stall');
  const repo = { url: 'rest:https://user:hunter2@backup.example.net/vol1', password: 'p' };

  function adapter(script: string): ResticAdapter {
    const binary = join(root.path, `restic-${Math.random().toString(36).slice(2)}`);
    writeFileSync(binary, `#!/usr/bin/env node\n${script}`);
    chmodSync(binary, 0o755);
    return new ResticAdapter(pluginConfig(root.path, { RESTIC_BINARY: binary, RESTIC_STALL_TIMEOUT_S: '1' }));
  }

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => root.remove());

  it('stops it (SIGTERM, then SIGKILL for it and the helpers it runs) and says so, without the credentials', async () => {
    const pids = join(root.path, 'pids');
    const restic = adapter(`
      const { spawn } = require('node:child_process');
      const helper = spawn('sleep', ['600'], { stdio: 'inherit' });
      require('node:fs').writeFileSync(${JSON.stringify(pids)}, JSON.stringify([process.pid, helper.pid]));
      process.on('SIGTERM', () => {});
      setInterval(() => process.stdout.write(${JSON.stringify(status(3))}), 50);
    `);
    const started = Date.now();
    const error = await restic.backup(repo, root.path, ['mosaic'], 'mosaic', new Date('2026-12-06T10:00:00.000Z')).catch((err: Error) => err);
    expect(error).toBeInstanceOf(ResticError);
    expect(error).toMatchObject({ kind: 'stalled' });
    expect((error as Error).message).toBe(
      'restic backup made no progress for 1 s (the replica store at rest:https://***@backup.example.net/vol1 does not answer); it was stopped',
    );
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1000 + 5000); // SIGTERM was ignored: SIGKILL after the grace
    expect(took).toBeLessThan(10_000);
    const [resticPid, helperPid] = JSON.parse(readFileSync(pids, 'utf8')) as number[];
    expect(alive(resticPid)).toBe(false);
    expect(alive(helperPid)).toBe(false);
  }, 30_000);

  it('lets a slow run that keeps printing progress finish', async () => {
    const restic = adapter(`
      let done = 0;
      const timer = setInterval(() => process.stdout.write(${JSON.stringify(status(0))}.replace('"bytes_done":0', '"bytes_done":' + ++done)), 300);
      setTimeout(() => { clearInterval(timer); process.stdout.write('{"message_type":"summary","snapshot_id":"0123abcd"}\\n'); }, 2500);
    `);
    await expect(restic.backup(repo, root.path, ['mosaic'], 'mosaic', new Date('2026-12-06T10:00:00.000Z'))).resolves.toEqual({ snapshotId: '0123abcd', dataAdded: 0 });
  });

  it('lets a run that prints nothing but reads and writes finish', async () => {
    const file = join(root.path, 'restored');
    const restic = adapter(`
      const fs = require('node:fs');
      const timer = setInterval(() => fs.appendFileSync(${JSON.stringify(file)}, Buffer.alloc(65536)), 200);
      setTimeout(() => clearInterval(timer), 2500);
    `);
    await expect(restic.restore(repo, 'abcdef12', root.path)).resolves.toBeUndefined();
  });

  it('lets a run that only computes, printing and reading nothing (restic deriving a key), finish', async () => {
    const restic = adapter(`
      const until = Date.now() + 2500;
      while (Date.now() < until);
    `);
    await expect(restic.init(repo)).resolves.toBeUndefined();
  });
});
