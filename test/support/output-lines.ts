import type { ChildProcess } from 'node:child_process';

/** Ends `child` with SIGTERM, and with SIGKILL if it is still there after `timeoutMs`; resolves once it exited. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** A child process's stdout and stderr, line by line, with waits on a line to come (each with a deadline). */
export class OutputLines {
  readonly lines: string[] = [];
  private readonly waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];

  follow(child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        rest += chunk.toString('utf8');
        const parts = rest.split('\n');
        rest = parts.pop() ?? '';
        parts.forEach((line) => this.add(line));
      });
      stream.on('end', () => rest && this.add(rest));
    }
  }

  /**
   * The first line (already printed or to come) that matches; rejects after `timeoutMs` with the
   * output so far. Without `timeoutMs` it waits as long as the test runs (its own timeout bounds it).
   */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string> {
    const seen = this.lines.find((line) => re.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${this.text().slice(-4000)}`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  count(re: RegExp): number {
    return this.lines.filter((line) => re.test(line)).length;
  }

  text(): string {
    return this.lines.join('\n');
  }

  private add(line: string): void {
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (waiter.re.test(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }
}
