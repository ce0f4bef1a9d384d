import { ChildProcess, spawn } from 'node:child_process';

/** A real restic REST server (`rclone serve restic`) on 127.0.0.1; port 0 unless one is given. */
export class RestServer {
  port = 0;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  /** `args`: more of rclone's flags (`--append-only`). */
  constructor(
    private readonly dir: string,
    private readonly args: string[] = [],
  ) {}

  get url(): string {
    return `rest:http://127.0.0.1:${this.port}/`;
  }

  start(port = 0): Promise<void> {
    const child = spawn('rclone', ['serve', 'restic', this.dir, '--addr', `127.0.0.1:${port}`, '--config', '/dev/null', ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', () => resolve()));
    let log = '';
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString('utf8');
        const match = /Serving restic REST API on http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
        if (match) {
          this.port = Number(match[1]);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void this.exited!.then(() => reject(new Error(`rclone exited before serving:\n${log}`)));
    });
  }

  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.exited;
  }
}
