import { Inject, Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';

export class ComposeUnavailableError extends Error {}

/**
 * Thin adapter around the Compose v2 CLI (`docker compose`), always with an argv array and never a
 * shell. The engine it talks to is DOCKER_HOST.
 */
@Injectable()
export class ComposeCliAdapter {
  constructor(@Inject(DEVICE_CONFIG) private readonly config: DeviceConfig) {}

  async version(): Promise<string> {
    try {
      const { stdout } = await this.run(['version', '--short'], 15_000);
      return stdout.trim().replace(/^v/, '');
    } catch (err) {
      throw new ComposeUnavailableError(
        `Docker Compose v2 is not available ("${this.config.dockerCli} compose version" failed: ${(err as Error).message.split('\n')[0]})`,
      );
    }
  }

  private run(args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        this.config.dockerCli,
        ['compose', ...args],
        { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, DOCKER_HOST: this.config.dockerHost } },
        (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr })),
      );
    });
  }
}
