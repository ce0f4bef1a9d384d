import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The restic the floors run: RESTIC_BINARY, as for the plugin, else restic on PATH. */
export const RESTIC = process.env.RESTIC_BINARY ?? 'restic';
/** A deadline on every run; the caller's step usually has a shorter one. */
const RESTIC_TIMEOUT_MS = 30 * 60_000;

/**
 * Raw restic, the floor of the replication figures: an argv array, the repository, its password
 * and cache only in the child's environment.
 */
export function rawRestic(repo: string, cacheDir: string, args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return run(RESTIC, args, {
    cwd,
    timeout: RESTIC_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      RESTIC_REPOSITORY: repo,
      RESTIC_PASSWORD: 'raw restic floor of the benches',
      RESTIC_CACHE_DIR: cacheDir,
    },
  });
}
