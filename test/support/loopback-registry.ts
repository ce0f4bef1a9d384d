import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's `docker-registry` package (the distribution registry 2.x); scripts/setup-test-env.sh installs it. */
export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/**
 * A container registry of the test's own on loopback: Debian's docker-registry on 127.0.0.1, port
 * 0 (the registry logs the one it got), its storage in a folder of its own. Docker engines pull
 * from 127.0.0.0/8 over plain http without any setting (an insecure registry by default).
 */
export class LoopbackRegistry {
  private constructor(
    /** `127.0.0.1:<port>`: the registry part of an image reference. */
    readonly address: string,
    private readonly process: ChildProcess,
    private readonly root: string,
  ) {}

  static async start(timeoutMs = 30_000): Promise<LoopbackRegistry> {
    if (!existsSync(REGISTRY_BINARY)) {
      throw new Error(`${REGISTRY_BINARY} is missing: install Debian's docker-registry package (bash scripts/setup-test-env.sh does)`);
    }
    const root = mkdtempSync(join(tmpdir(), 'mosaic-registry-'));
    const config = join(root, 'config.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: info',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(root, 'data')}`,
        'http:',
        '  addr: 127.0.0.1:0',
        '',
      ].join('\n'),
    );
    const child = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    try {
      const address = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the registry did not say where it listens within ${timeoutMs} ms:\n${output.slice(-2000)}`)),
          timeoutMs,
        );
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (127\.0\.0\.1:\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout!.on('data', read);
        child.stderr!.on('data', read);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the registry exited with ${code}:\n${output.slice(-2000)}`));
        });
      });
      // It keeps logging every request: read on, so a full pipe never blocks it.
      child.stdout!.resume();
      child.stderr!.resume();
      return new LoopbackRegistry(address, child, root);
    } catch (err) {
      child.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
      this.process.kill('SIGTERM');
      const killed = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
