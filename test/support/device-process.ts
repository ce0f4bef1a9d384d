import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { deviceNodeFlags } from './device-node-flags';

const MAIN = join(__dirname, '../../dist/apps/device/main.js');

/**
 * A real Device process (`node [the image's flags] dist/apps/device/main.js`, built by the test command) with its
 * output collected line by line, for tests that need its exit status or its logs.
 */
export class DeviceProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];

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
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        rest += chunk.toString('utf8');
        const parts = rest.split('\n');
        rest = parts.pop() ?? '';
        parts.forEach((line) => this.line(line));
      });
      stream.on('end', () => rest && this.line(rest));
    }
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
    const seen = this.lines.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }

  /** The base URL of /health and /metrics, from the line the device logs once it listens. */
  async monitorUrl(): Promise<string> {
    const line = await this.waitForLine(/health and metrics on http:\/\/[^/\s]+\/health/);
    return /(http:\/\/[^/\s]+)\/health/.exec(line)![1];
  }

  count(re: RegExp): number {
    return this.lines.filter((l) => re.test(l)).length;
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
    return this.lines.join('\n');
  }

  private line(line: string): void {
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (waiter.re.test(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }
}
