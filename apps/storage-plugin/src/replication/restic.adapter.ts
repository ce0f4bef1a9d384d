import { basename, dirname } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { execFile, spawn } from 'node:child_process';
import { redactUrl } from '../common/redact';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { ResticProgress, StallWatchdog, processWork } from './stall-watchdog';
import { SnapshotInfo } from './writer-rule';
import { ResticSnapshotJson, snapshotInfo } from './restic-snapshot-file';

/** Where a restic repository is and how to open it. The password goes to the child's environment only. */
export interface Repository {
  url: string;
  password: string;
  /** The id of the key restic tries first (`--key-hint`): the plugin's cheap key, when known (ReplicaKeysService). */
  keyHint?: string;
}

/**
 * `torn-read`: restic read a repository file that was being written (a local or REST store writes in
 * place, so a reader may meet half a file): it checks every file's hash and says "invalid data
 * returned". Reading it again later reads it whole.
 */
export type ResticFailure = 'missing-repository' | 'locked' | 'wrong-password' | 'no-space' | 'unreachable' | 'stalled' | 'torn-read' | 'other';

/** A failed restic run; the message is restic's own last words, without passwords or URL credentials. */
export class ResticError extends Error {
  constructor(
    readonly kind: ResticFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ResticError';
  }
}

const STDOUT_CAP = 32 * 1024 * 1024;
/** How long restic waits for a lock another process holds before it fails with `locked`. */
export const LOCK_WAIT = '30s';
/** restic ≥ 0.17 retries a failed backend request for up to 15 minutes, saying so on stderr. */
const BACKEND_RETRY = /returned error, retrying after [0-9.]+[a-zµ]+: (.*)$/;
const STDERR_TAIL = 8 * 1024;
/** After SIGTERM restic tries to remove its lock, which waits on the silent backend too: then SIGKILL. */
const KILL_GRACE_MS = 5000;

export function classifyResticError(stderr: string): ResticFailure {
  if (/no space left on device/i.test(stderr)) return 'no-space';
  if (/wrong password or no key found/i.test(stderr)) return 'wrong-password';
  if (/repository is already locked|unable to create lock/i.test(stderr)) return 'locked';
  if (/invalid data returned/i.test(stderr)) return 'torn-read';
  if (
    /unable to open config file/i.test(stderr) &&
    /(no such file or directory|does not exist|NoSuchKey|NoSuchBucket|specified key does not exist|\b404\b)/i.test(stderr)
  ) {
    return 'missing-repository';
  }
  return 'other';
}

/** `--time` as restic reads it: local time, which is UTC for every restic the plugin starts (TZ=UTC). */
export function resticTime(time: Date): string {
  return time.toISOString().slice(0, 19).replace('T', ' ');
}

/** The lines of restic's stderr that say what went wrong, in one line. */
function summarize(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Is there a repository at the following location\?$/.test(l));
  const fatal = lines.filter((l) => /^Fatal:|error|denied|refused|no space|timeout|locked/i.test(l));
  const chosen = (fatal.length ? fatal : lines).slice(-3).join(' / ');
  const why = chosen || (signal ? `killed by ${signal}` : `exit status ${code}`);
  return redactUrl(why).slice(0, 1000);
}

/**
 * The only place that starts restic: execFile-style (an argv array, never a shell). Each child gets
 * the repository and its password in its environment, never in argv.
 */
@Injectable()
export class ResticAdapter {
  private readonly logger = new Logger('Restic');

  constructor(@Inject(PLUGIN_CONFIG) private readonly config: PluginConfig) {}

  /** restic's own version (`restic version`: "restic 0.18.0 compiled with …"). */
  version(): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.config.resticBinary, ['version'], { timeout: 15_000, env: this.config.resticEnv }, (err, stdout) => {
        const version = /^restic (\S+)/.exec(stdout)?.[1];
        if (err || !version) reject(new ResticError('other', `cannot run ${this.config.resticBinary} version: ${err?.message ?? stdout.trim()}`));
        else resolve(version);
      });
    });
  }

  /** The repository's snapshots, or only those named. */
  async snapshots(repo: Repository, ids: string[] = []): Promise<SnapshotInfo[]> {
    const { stdout } = await this.run(repo, ['snapshots', '--json', ...ids]);
    const parsed = JSON.parse(stdout.trim() || '[]') as Array<ResticSnapshotJson & { id: string }>;
    return parsed.map((s) => snapshotInfo(s.id, s));
  }

  async init(repo: Repository): Promise<void> {
    await this.run(repo, ['init', '--quiet']);
  }

  /**
   * Backs up `dir` itself, named by its last path element, and returns the new snapshot's id. The
   * folder (not only its contents) is in the snapshot, so an empty volume is a valid snapshot too,
   * and a restore gives `<target>/<basename>`. The snapshot's time is `time` (to the second): the
   * plugin's clock, not restic's.
   */
  /**
   * The new snapshot's id, how many bytes it added to the repository (restic's summary `data_added`)
   * and the bytes of its files (`total_bytes_processed`, what its listing's summary shows).
   */
  async backup(
    repo: Repository,
    dir: string,
    tags: string[],
    host: string,
    time: Date,
  ): Promise<{ snapshotId: string; dataAdded: number; totalBytes?: number }> {
    const args = ['backup', '--json', '--host', host, '--time', resticTime(time)];
    for (const tag of tags) args.push('--tag', tag);
    args.push(basename(dir));
    const { stdout } = await this.run(repo, args, dirname(dir));
    for (const line of stdout.split('\n').reverse()) {
      if (!line.startsWith('{')) continue;
      const message = JSON.parse(line) as { message_type?: string; snapshot_id?: string; data_added?: unknown; total_bytes_processed?: unknown };
      if (message.message_type === 'summary' && message.snapshot_id) {
        const added = message.data_added;
        const total = message.total_bytes_processed;
        return {
          snapshotId: message.snapshot_id,
          dataAdded: typeof added === 'number' && added >= 0 ? added : 0,
          ...(typeof total === 'number' && total >= 0 ? { totalBytes: total } : {}),
        };
      }
    }
    throw new ResticError('other', 'restic backup reported no snapshot');
  }

  /** Bytes a restore of the snapshot writes (file contents), for snapshots without a summary. */
  async restoreSize(repo: Repository, snapshotId: string): Promise<number> {
    const { stdout } = await this.run(repo, ['stats', '--json', '--mode', 'restore-size', snapshotId]);
    return Number((JSON.parse(stdout) as { total_size?: number }).total_size ?? 0);
  }

  /**
   * Restores the snapshot into `target`. `incremental`: `target` already holds an earlier restore of
   * the same replica (a staged move): only files whose size or time differ are written, and what
   * the snapshot no longer has is deleted (restic ≥ 0.17). restic replaces an entry of another type
   * (a symlink where the snapshot has a folder) instead of writing through it. `onProgress` hears
   * restic's own progress (0 to 1, its `--json` status lines, once a second): nothing walks the
   * target to measure it. `unlocked`: without restic's shared lock (`--no-lock`), which costs a
   * lock file written and 200 ms of waiting before restic reads the locks again, most of a small
   * restore's time; what it would keep off is an exclusive operation (a prune) at the same moment.
   */
  async restore(
    repo: Repository,
    snapshotId: string,
    target: string,
    options: { incremental?: boolean; unlocked?: boolean; onProgress?: (fraction: number) => void } = {},
  ): Promise<void> {
    const lock = options.unlocked ? ['--no-lock'] : [];
    const incremental = options.incremental ? ['--overwrite', 'if-changed', '--delete'] : [];
    const output = options.onProgress ? ['--json'] : ['--quiet'];
    // The global flag after the command: messages name a run by its first word (`restic restore …`).
    await this.run(repo, ['restore', ...lock, ...output, ...incremental, '--target', target, snapshotId], undefined, options.onProgress);
  }

  /** Forgets the given snapshots and, with `prune`, removes the data only they used. */
  async forgetSnapshots(repo: Repository, ids: string[], options: { prune: boolean }): Promise<void> {
    await this.run(repo, ['forget', '--quiet', ...(options.prune ? ['--prune'] : []), ...ids]);
  }

  /**
   * The id of the key restic opened the repository with (`key list`, without a lock): with
   * `repo.keyHint`, that key when the password opens it, else whichever key restic found next.
   */
  async openingKey(repo: Repository): Promise<string> {
    const { stdout } = await this.run(repo, ['key', 'list', '--no-lock', '--json']);
    const keys = JSON.parse(stdout.trim() || '[]') as Array<{ id?: unknown; current?: unknown }>;
    const current = Array.isArray(keys) ? keys.find((k) => k?.current === true) : undefined;
    if (typeof current?.id !== 'string') throw new ResticError('other', 'restic key list named no current key');
    return current.id;
  }

  /** Removes stale locks only (restic's own rule: a dead process on this host, or older than 30 min). */
  async unlock(repo: Repository): Promise<void> {
    await this.run(repo, ['unlock', '--quiet']);
  }

  private run(repo: Repository, args: string[], cwd?: string, onPercent?: (fraction: number) => void): Promise<{ stdout: string; stderr: string }> {
    // With --json restic prints 60 status lines a second unless told; one a second shows progress as well.
    const env = { RESTIC_PROGRESS_FPS: '1', ...this.config.resticEnv, RESTIC_REPOSITORY: repo.url, RESTIC_PASSWORD: repo.password };
    const started = Date.now();
    // restic waits for a lock held by another process (another device's prune) instead of failing.
    const argv = ['--retry-lock', LOCK_WAIT, ...(repo.keyHint ? ['--key-hint', repo.keyHint] : []), ...args];
    const stallS = this.config.resticStallTimeoutS;
    return new Promise((resolve, reject) => {
      // A group of its own: stopping it stops the ssh or rclone it runs for sftp: and rclone: too.
      const child = spawn(this.config.resticBinary, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const signalGroup = (name: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, name);
        } catch {
          child.kill(name); // the group is gone already
        }
      };
      const out: Buffer[] = [];
      let outBytes = 0;
      let stderr = '';
      let partialLine = '';
      // The store does not answer: restic would retry for 15 minutes; the plugin has its own back-off.
      let unreachable: { since: number; reason: string; timer?: NodeJS.Timeout } | undefined;
      let stalled = false;
      /** What restic wrote to its pipes: its own status lines are not I/O progress. */
      let printed = 0;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        signalGroup('SIGTERM');
        killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
      };
      // A stalled backend makes restic wait for ever (it has no deadline of its own): stop it.
      const watchdog = new StallWatchdog(
        stallS * 1000,
        () => {
          const work = child.pid === undefined ? undefined : processWork(child.pid);
          return work && { ioBytes: work.ioBytes - printed, cpuMs: work.cpuMs };
        },
        () => {
          stalled = true;
          this.logger.warn(`restic ${args[0]} on ${redactUrl(repo.url)} made no progress for ${stallS} s; stopping it`);
          stop();
        },
      );
      const progress = new ResticProgress(onPercent);
      watchdog.start();
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        printed += chunk.length;
        if (outBytes <= STDOUT_CAP) out.push(chunk);
        if (progress.feed(chunk.toString('utf8'))) watchdog.progressed();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        printed += chunk.length;
        const text = chunk.toString('utf8');
        stderr = (stderr + text).slice(-STDERR_TAIL);
        const lines = (partialLine + text).split('\n');
        partialLine = lines.pop()!.slice(-STDERR_TAIL);
        for (const line of lines) {
          const retry = BACKEND_RETRY.exec(line);
          if (!retry) continue;
          if (!unreachable) {
            unreachable = { since: Date.now(), reason: retry[1] };
            unreachable.timer = setTimeout(stop, this.config.storeRetryS * 1000);
          } else {
            unreachable.reason = retry[1];
          }
        }
      });
      child.on('error', (err) => {
        watchdog.stop();
        reject(new ResticError('other', `cannot run ${this.config.resticBinary}: ${err.message}`));
      });
      // Settled when restic itself has ended: a helper it ran may hold the pipes open a little longer.
      child.on('exit', () => {
        watchdog.stop();
        clearTimeout(killTimer);
        if (!stalled) return;
        const message = `restic ${args[0]} made no progress for ${stallS} s (the replica store at ${redactUrl(repo.url)} does not answer); it was stopped`;
        reject(new ResticError('stalled', message));
      });
      child.on('close', (code, signal) => {
        clearTimeout(unreachable?.timer);
        if (stalled) return;
        this.logger.debug(`restic ${args[0]} ${code === 0 ? 'done' : `failed (${code ?? signal})`} in ${Date.now() - started} ms`);
        if (code === 0) {
          if (outBytes > STDOUT_CAP) reject(new ResticError('other', `restic ${args[0]} printed more than ${STDOUT_CAP} bytes`));
          else resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr });
          return;
        }
        if (unreachable && Date.now() - unreachable.since >= this.config.storeRetryS * 1000) {
          const why = redactUrl(unreachable.reason).slice(0, 1000);
          reject(new ResticError('unreachable', `restic ${args[0]}: the replica store did not answer for ${this.config.storeRetryS} s: ${why}`));
          return;
        }
        reject(new ResticError(classifyResticError(stderr), `restic ${args[0]}: ${summarize(stderr, code, signal)}`));
      });
    });
  }
}
