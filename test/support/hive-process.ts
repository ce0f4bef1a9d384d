// Test support: a real Hive process (`node dist/apps/hive/main.js`, built by the test command),
// configured through its environment as in production (apps/hive/src/config/load-hive-config.ts),
// on a free port it picks itself (HIVE_PORT=0) and reports in its "Hive listening on" line.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HiveApiClient } from '../../apps/hive/src/testing/hive-api-client';
import { TEST_ADMIN_TOKEN } from '../../apps/hive/src/testing/test-hive';
import { OutputLines, stopChild } from './output-lines';

const MAIN = join(__dirname, '../../dist/apps/hive/main.js');
/** Deadline on a start (migrations included) and on a graceful stop. */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export class HiveProcess {
  readonly output = new OutputLines();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private url_: string | null = null;
  /** The test ended it (kill or stop): an exit is expected. */
  private ending = false;

  private constructor(private readonly child: ChildProcess) {
    this.output.follow(child);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // A Hive that dies by itself is a bug to see in the test run's output, whatever the test then reports.
    void this.exited.then(({ code, signal }) => {
      if (!this.ending) process.stderr.write(`a Hive process (pid ${child.pid}) exited by itself (${signal ?? code}); its last output:\n${this.output.text().slice(-6000)}\n`);
    });
  }

  /** Starts a Hive on `databaseUrl` and resolves once it listens; `env` adds or overrides settings. */
  static async start(databaseUrl: string, env: Record<string, string> = {}): Promise<HiveProcess> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build the Hive first (npx nest build hive)`);
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        HIVE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        HIVE_HOST: '127.0.0.1',
        HIVE_PORT: '0',
        HIVE_DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'log',
        // Plain lines to parse, without the logger's colours.
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hive = new HiveProcess(child);
    const listening = hive.output.waitFor(/Hive listening on http:\/\/[\w.:[\]-]+/, START_TIMEOUT_MS);
    const line = await Promise.race([
      listening,
      hive.exited.then(({ code, signal }) => {
        throw new Error(`the Hive exited (${signal ?? code}) before it listened:\n${hive.output.text().slice(-4000)}`);
      }),
    ]);
    hive.url_ = /Hive listening on (http:\/\/[\w.:[\]-]+)/.exec(line)![1];
    return hive;
  }

  /** http://127.0.0.1:<port> */
  get url(): string {
    return this.url_!;
  }

  /** host:port, as a load balancer's server line wants it. */
  get address(): string {
    return new URL(this.url).host;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** REST client with the admin token, straight to this process. */
  get api(): HiveApiClient {
    return new HiveApiClient(this.url, TEST_ADMIN_TOKEN);
  }

  /** Ends the process at once, without its shutdown: a crash. */
  async kill(): Promise<void> {
    this.ending = true;
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (the Hive's shutdown hooks run), SIGKILL past the deadline. */
  async stop(): Promise<void> {
    this.ending = true;
    await stopChild(this.child, this.exited, STOP_TIMEOUT_MS);
  }
}
