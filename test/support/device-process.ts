import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { deviceNodeFlags } from './device-node-flags';
import { OutputLines } from './output-lines';

const MAIN = join(__dirname, '../../dist/apps/device/main.js');

/**
 * A real Device process (`node [the image's flags] dist/apps/device/main.js`, built by the test command) with its
 * output collected line by line, for tests that need its exit status or its logs.
 */
export class DeviceProcess {
  private readonly out = new OutputLines();
  readonly lines: string[] = this.out.lines;
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  /** `nodeArgs`: Node's flags, by default the image's own (the Dockerfile's CMD). */
  constructor(env: Record<string, string>, nodeArgs: string[] = deviceNodeFlags()) {
    this.child = spawn(process.execPath, [...nodeArgs, MAIN], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        LOG_LEVEL: 'debug',
        MONITOR_ADDRESS: '127.0.0.1:0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.out.follow(this.child);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Whether the process still runs. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first line (already printed or to come) that matches. */
  waitForLine(re: RegExp): Promise<string> {
    return this.out.waitFor(re);
  }

  /** The base URL of /health and /metrics, from the line the device logs once it listens. */
  async monitorUrl(): Promise<string> {
    const line = await this.waitForLine(/health and metrics on http:\/\/[^/\s]+\/health/);
    return /(http:\/\/[^/\s]+)\/health/.exec(line)![1];
  }

  count(re: RegExp): number {
    return this.out.count(re);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }

  /** Ends the process at once, without its shutdown (SIGKILL by default): a crash. Resolves once it exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }

  output(): string {
    return this.out.text();
  }
}
