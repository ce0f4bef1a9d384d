import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestHive } from '../../apps/hive/src/testing/test-hive';
import { TEST_ADMIN_TOKEN } from '../../apps/hive/src/testing/test-hive';
import { DeviceProcess } from '../support/device-process';
import { tempRoot } from '../support/device-harness';
import { E2E_PASSPHRASE, machineDeviceSettings, startE2eHive } from '../support/e2e-hive';
import { IsolatedEngine } from '../support/isolated-engine';
import { RunningPlugin, pluginConfig, startPlugin } from '../support/storage-plugin';

jest.setTimeout(600_000);
const run = promisify(execFile);

/** The built CLI (`npm run build`), as a user runs it. */
const CLI = join(__dirname, '../../apps/cli/mosaic.js');

interface Machine {
  name: string;
  engine: IsolatedEngine;
  plugin: RunningPlugin;
  device: DeviceProcess;
}

/**
 * `mosaic` against a real Hive and two real Devices (own engines, own storage plugins, one local
 * replica folder): log in, add devices, install an app, run its command, move it; then open a
 * replica with stock restic and the password `mosaic replica password` prints.
 */
describe('the mosaic CLI against a real Hive and Devices', () => {
  const root = tempRoot('e2e-cli');
  const replicas = join(root.path, 'replicas');
  const configDir = join(root.path, 'cli-config');
  const env = { ...process.env, MOSAIC_CONFIG_DIR: configDir };
  let hive: TestHive;
  const machines: Machine[] = [];

  /** Runs the CLI; its stdin is `input` (a pipe: what a script would give it). */
  function mosaic(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  async function ok(args: string[], input = ''): Promise<string> {
    const result = await mosaic(args, input);
    if (result.code !== 0) throw new Error(`mosaic ${args.join(' ')} exited ${result.code}:\n${result.stderr}\n${result.stdout}`);
    return result.stdout;
  }

  async function machine(name: string): Promise<Machine> {
    const dir = join(root.path, name);
    const engine = await IsolatedEngine.start();
    const plugin = await startPlugin(pluginConfig(dir, { DOCKER_PLUGIN_DIR: engine.pluginDir, REPLICA_URL: replicas }));
    const added = JSON.parse(await ok(['--json', 'devices', 'add', name]));
    expect(added.dockerRun).toContain(`HIVE_URL='${hive.url}'`);
    expect(added.compose).toContain('DEVICE_TOKEN_FILE: /run/secrets/mosaic_device_token');
    expect(added.tokenFile).toContain(added.token);
    const device = new DeviceProcess(machineDeviceSettings(hive, added.token, name, dir, engine, plugin));
    await device.waitForLine(/authenticated as device/);
    const m = { name, engine, plugin, device };
    machines.push(m);
    return m;
  }

  beforeAll(async () => {
    mkdirSync(replicas, { recursive: true });
    hive = await startE2eHive(join(root.path, 'hive.db'));
    await ok(['login', '--hive', hive.url], `${TEST_ADMIN_TOKEN}\n`);
  });

  afterAll(async () => {
    for (const m of machines) {
      await m.device.stop();
      await m.plugin.close();
      await m.engine.stop();
    }
    await hive?.close();
    root.remove();
  });

  it('has kept the login in a 0600 file, and refuses a wrong token without keeping it', async () => {
    const refused = await mosaic(['--config-dir', join(root.path, 'other-config'), 'login', '--hive', hive.url], 'not-the-admin-token\n');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/mosaic: UNAUTHORIZED|401/);
    expect(refused.stderr).not.toContain('not-the-admin-token');
    expect(() => statSync(join(root.path, 'other-config', 'credentials.json'))).toThrow();

    const file = join(configDir, 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(configDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ hive: hive.url, token: TEST_ADMIN_TOKEN });
    expect((await mosaic(['devices', 'ls'])).code).toBe(0);
  });

  it('installs an app with progress, runs its command, moves it, and lists it, as tables and as JSON', async () => {
    const a = await machine('cli-a');
    const b = await machine('cli-b');
    const listed = await ok(['devices', 'ls']);
    expect(listed.split('\n')[0]).toMatch(/^ID\s+NAME\s+ONLINE\s+AUTHENTICATED\s+VERSION\s+LAST SEEN$/);
    expect(listed).toMatch(/cli-a\s+true\s+true/);

    const installed = await mosaic(['apps', 'install', 'notes', '--device', a.name]);
    expect(installed.code).toBe(0);
    expect(installed.stderr).toMatch(/install notes: .*\(\d+%\)|install notes: done/);
    const instance = /^([0-9a-f-]{36})\s+notes\s+cli-a\s+running/m.exec(installed.stdout)?.[1];
    expect(instance).toBeDefined();

    await ok(['apps', 'run', instance!, 'add-note', 'text=written through the CLI']);
    const refused = await mosaic(['apps', 'run', instance!, 'add-note', 'text=<script>']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/INVALID_PARAMS/);

    const moved = await mosaic(['apps', 'move', instance!, '--to', b.name]);
    expect(moved.code).toBe(0);
    expect(moved.stderr).toMatch(/move to cli-b: (stopping|replicated|restoring)/);
    expect(moved.stdout).toMatch(new RegExp(`^${instance}\\s+notes\\s+cli-b\\s+running`, 'm'));
    expect(moved.stderr).toMatch(/Moved in \d+\.\d s; the app was down for \d+\.\d s\./);
    const moves = await mosaic(['moves', 'ls', instance!]);
    expect(moves.stdout).toMatch(/^ID\s+STATE\s+FROM\s+TO\s+DOWNTIME\s+TOTAL\s+RESOLVED ON$/m);
    expect(moves.stdout).toMatch(/\srunning\s.*\d+\.\d s\s+\d+\.\d s\s+-$/m);
    const [move] = JSON.parse(await ok(['--json', 'moves', 'ls', instance!]));
    const again = await mosaic(['moves', 'cancel', move.id]);
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('MOVE_FINISHED') });
    const notes = await mosaic(['apps', 'run', instance!, 'list-notes']);
    expect(notes).toMatchObject({ code: 0, stdout: expect.stringContaining('written through the CLI') });

    const apps = JSON.parse(await ok(['--json', 'apps', 'ls']));
    expect(apps).toEqual([expect.objectContaining({ instance, state: 'running', deviceId: expect.any(String) })]);
  });

  it("prints a replica's restic password with which stock restic lists and restores the replica", async () => {
    const [app] = JSON.parse(await ok(['--json', 'apps', 'ls']));
    const volume = `mosaic-${app.instance}-app`;
    expect(readdirSync(replicas)).toContain(volume);

    const wrong = await mosaic(['replica', 'password', volume], 'not the passphrase\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/passphrase does not open/);

    const password = (await ok(['replica', 'password', volume], `${E2E_PASSPHRASE}\n`)).trim();
    expect(password).toMatch(/^[0-9a-f]{64}$/);
    const restic = (args: string[]) =>
      run('restic', ['-r', join(replicas, volume), '--no-cache', ...args], { env: { ...process.env, RESTIC_PASSWORD: password }, timeout: 120_000 });
    const snapshots = JSON.parse((await restic(['snapshots', '--json'])).stdout) as Array<{ id: string; tags: string[] }>;
    expect(snapshots.some((s) => s.tags.includes('mosaic'))).toBe(true);
    const target = join(root.path, 'restored');
    await restic(['restore', 'latest', '--tag', 'mosaic', '--target', target]);
    expect(readFileSync(join(target, 'data', 'notes.txt'), 'utf8')).toContain('written through the CLI');
  });
});
