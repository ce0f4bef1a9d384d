import { Inject, Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';

export class ComposeUnavailableError extends Error {}

/** A failed compose run, with what it printed. */
export class ComposeError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

/** The compose project of one app instance. */
export interface ComposeProject {
  name: string;
  directory: string;
  file: string;
  /** The app's variables: Compose interpolates them; they are never written into YAML. */
  variables: Record<string, string>;
}

/** The only settings of the device's own environment that Compose gets; nothing else leaks. */
const PASSED_THROUGH = ['PATH', 'HOME', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY'];

/**
 * Thin adapter around the Compose v2 CLI (`docker compose`), always with an argv array and never a
 * shell. The engine it talks to is DOCKER_HOST.
 */
@Injectable()
export class ComposeCliAdapter {
  constructor(@Inject(DEVICE_CONFIG) private readonly settings: DeviceConfig) {}

  async version(): Promise<string> {
    try {
      const { stdout } = await this.run(['version', '--short'], {}, 15_000);
      return stdout.trim().replace(/^v/, '');
    } catch (err) {
      throw new ComposeUnavailableError(
        `Docker Compose v2 is not available ("${this.settings.dockerCli} compose version" failed: ${(err as Error).message.split('\n')[0]})`,
      );
    }
  }

  /** `compose config`: the project as Compose understands it, as JSON. */
  async config(project: ComposeProject): Promise<Record<string, unknown>> {
    const { stdout } = await this.project(project, ['config', '--format', 'json'], 60_000);
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  async up(project: ComposeProject, timeoutMs: number): Promise<void> {
    await this.project(project, ['up', '--detach', '--remove-orphans', '--quiet-pull'], timeoutMs);
  }

  async stop(project: ComposeProject, timeoutMs: number): Promise<void> {
    await this.project(project, ['stop'], timeoutMs);
  }

  /** `down` without `--volumes`: the data stays. */
  async down(project: ComposeProject, timeoutMs: number): Promise<void> {
    await this.project(project, ['down', '--remove-orphans'], timeoutMs);
  }

  private project(project: ComposeProject, command: string[], timeoutMs: number) {
    const args = ['--project-name', project.name, '--project-directory', project.directory, '--file', project.file, ...command];
    return this.run(args, project.variables, timeoutMs, command[0]);
  }

  private run(args: string[], variables: Record<string, string>, timeoutMs: number, label = args[0]): Promise<{ stdout: string; stderr: string }> {
    const env: Record<string, string> = { ...variables };
    for (const name of PASSED_THROUGH) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    env.DOCKER_HOST = this.settings.dockerHost;
    return new Promise((resolve, reject) => {
      execFile(this.settings.dockerCli, ['compose', ...args], { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env }, (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const code = typeof err.code === 'number' ? err.code : null;
        const why = err.killed ? `timed out after ${Math.round(timeoutMs / 1000)} s` : (stderr.trim().split('\n').slice(-3).join(' ') || err.message);
        reject(new ComposeError(`docker compose ${label} failed: ${why}`, stderr, code));
      });
    });
  }
}
