import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { E2E_PASSPHRASE } from './e2e-hive';
import { IsolatedEngine } from './isolated-engine';

const run = promisify(execFile);
const REPO = join(__dirname, '../..');

/**
 * The repository's compose.yaml run the way users run it, against an engine of the test's own:
 * the Device's folders, passphrase and token file under `root` (below /tmp, which the engine's
 * own mount namespace sees), the settings in an env file, the test's changes in an override file.
 */
export class ComposeDeployment {
  readonly envFile: string;
  readonly overrideFile: string;

  constructor(
    readonly root: string,
    private readonly engine: IsolatedEngine,
  ) {
    this.envFile = join(root, 'mosaic.env');
    this.overrideFile = join(root, 'test-override.yaml');
    for (const dir of ['volumes', 'replicas', 'apps']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'passphrase'), `${E2E_PASSPHRASE}\n`, { mode: 0o600 });
  }

  /** Where the Device's token goes (compose.yaml hands it over as a secret). */
  get tokenFile(): string {
    return join(this.root, 'device-token');
  }

  /** The env file: the engine's socket, the Device's folders and files under `root`, and `values`. */
  settings(values: Record<string, string>): void {
    const all: Record<string, string> = {
      DOCKER_SOCKET: this.engine.socket,
      DEVICE_PASSPHRASE_FILE: join(this.root, 'passphrase'),
      DEVICE_TOKEN_FILE: this.tokenFile,
      VOLUMES_DIR: join(this.root, 'volumes'),
      APPS_DIR: join(this.root, 'apps'),
      REPLICA_URL: join(this.root, 'replicas'),
      ...values,
    };
    writeFileSync(
      this.envFile,
      Object.entries(all)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      { mode: 0o600 },
    );
  }

  override(yaml: string): void {
    writeFileSync(this.overrideFile, yaml);
  }

  /** docker compose with the repository's file and the override, against the test's engine. */
  async compose(...args: string[]): Promise<string> {
    const { stdout } = await run(
      'docker',
      [
        'compose',
        '--project-directory',
        REPO,
        '-f',
        join(REPO, 'compose.yaml'),
        '-f',
        this.overrideFile,
        '--env-file',
        this.envFile,
        ...args,
      ],
      { env: { ...process.env, DOCKER_HOST: `unix://${this.engine.socket}` }, maxBuffer: 16 * 1024 * 1024 },
    );
    return stdout.trim();
  }
}
