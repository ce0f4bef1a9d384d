// Test support: a throwaway PostgreSQL cluster (Debian's `postgresql` package) for one test run.
// initdb into a temp folder as the `postgres` user (runuser, argv arrays, no shell); the server
// listens on a unix socket in that folder only (listen_addresses=''), so no port is taken and
// nothing outside this machine's root can reach it. Each test file gets databases of its own
// (apps/hive/src/testing/test-database.ts), dropped after it.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Deadline on initdb and on the server's start and stop: a cluster that hangs fails the run. */
const STEP_TIMEOUT_MS = 60_000;
/** Where the test cluster's socket folder is handed to the test files (jest workers inherit it). */
export const POSTGRES_SOCKET_DIR_ENV = 'MOSAIC_TEST_POSTGRES_DIR';

export interface PostgresCluster {
  /** The socket folder (also the cluster's parent folder). */
  socketDir: string;
  /** A URL for `database` as the superuser, over the socket. */
  url(database: string): string;
  /** Stops the server (fast shutdown: sessions end) and keeps its data: an outage of the database. */
  stopServer(): Promise<void>;
  /** Starts the server again on the same data and socket folder, once it accepts connections. */
  startServer(): Promise<void>;
  /** Stops the server and removes the cluster. */
  stop(): Promise<void>;
}

/** The folder of Debian's PostgreSQL binaries, the newest installed major version. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  if (!versions.length) throw new Error(`PostgreSQL is not installed (${root} is empty): run scripts/setup-test-env.sh, which installs Debian's postgresql`);
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

async function idOf(user: string, flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await run('id', [flag, user], { timeout: 5_000 });
  return Number(stdout.trim());
}

/** Runs `argv` as the postgres user (the server refuses to run as root). */
function asPostgres(argv: string[], options: { timeout?: number } = {}) {
  return run('runuser', ['-u', 'postgres', '--', ...argv], { timeout: options.timeout ?? STEP_TIMEOUT_MS });
}

/** A running postmaster of the cluster in `dataDir`, started as the postgres user and waited for. */
interface RunningServer {
  exited: Promise<number | null>;
  /** Fast shutdown (ends the sessions); resolves once the server exited. */
  stop(): Promise<void>;
}

async function startServer(bin: string, dataDir: string, socketDir: string): Promise<RunningServer> {
  const server: ChildProcess = spawn(
    'runuser',
    [
      '-u', 'postgres', '--', join(bin, 'postgres'), '-D', dataDir,
      '-c', "listen_addresses=",
      '-c', `unix_socket_directories=${socketDir}`,
      // Throwaway data: no durability needed, and a test run should not wait on the disk.
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=200',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  // The server says so on stderr once it accepts connections: the event to wait for.
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STEP_TIMEOUT_MS);
    server.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
      if (log.includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    if (server.exitCode === null) server.kill('SIGKILL');
    throw new Error(`PostgreSQL did not start within ${STEP_TIMEOUT_MS} ms: ${log}`);
  }
  return {
    exited,
    async stop() {
      if (server.exitCode !== null) return;
      // Fast shutdown (ends the sessions) through pg_ctl: runuser does not pass signals on to the server.
      await asPostgres([join(bin, 'pg_ctl'), 'stop', '--pgdata', dataDir, '--mode', 'fast', '--wait']).catch(() => {
        // The server itself, not runuser (killing that would leave the server running): immediate shutdown.
        const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (postmaster > 0) process.kill(postmaster, 'SIGQUIT');
      });
      await exited;
    },
  };
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  const socketDir = mkdtempSync(join(tmpdir(), 'mosaic-pg-'));
  const dataDir = join(socketDir, 'data');
  chownSync(socketDir, await idOf('postgres', '-u'), await idOf('postgres', '-g'));
  // trust: only root and postgres can open the 0700 socket folder.
  await asPostgres([join(bin, 'initdb'), '--pgdata', dataDir, '--auth', 'trust', '--encoding', 'UTF8', '--locale', 'C', '--username', 'postgres', '--no-sync']);

  let server: RunningServer | null;
  try {
    server = await startServer(bin, dataDir, socketDir);
  } catch (err) {
    rmSync(socketDir, { recursive: true, force: true });
    throw err;
  }
  return {
    socketDir,
    url: (database) => `postgresql://postgres@/${encodeURIComponent(database)}?host=${encodeURIComponent(socketDir)}`,
    async stopServer() {
      await server?.stop();
      server = null;
    },
    async startServer() {
      if (server) throw new Error('the PostgreSQL server runs already');
      server = await startServer(bin, dataDir, socketDir);
    },
    async stop() {
      await server?.stop();
      server = null;
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
