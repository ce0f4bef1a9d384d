import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceNodeFlags } from '../support/device-node-flags';

const MAIN = join(__dirname, '../../dist/apps/device/main.js');
/** Far more than a shutdown takes (well under a second idle), far less than Docker's 10 s or compose.yaml's 30 s grace. */
const EXIT_WITHIN_MS = 8_000;

jest.setTimeout(30_000);

/**
 * In its container the Device is PID 1, and the kernel ignores a signal PID 1 has no handler for:
 * Nest's shutdown hooks end the process by sending the signal again, which PID 1 then ignores, so
 * the process ends only when nothing keeps its event loop alive. A server left open (the monitor's)
 * kept it running until Docker's SIGKILL, 30 s later. Here the Device runs as PID 1 of a new PID
 * namespace (util-linux's unshare, as root like CI), with the image's Node flags.
 */
describe('a Device that is PID 1, as in its container', () => {
  let dir: string;
  let wrapper: ChildProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mosaic-pid1-'));
  });

  afterEach(() => {
    if (wrapper && wrapper.exitCode === null && wrapper.signalCode === null) wrapper.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends soon after SIGTERM, the monitor listening and Hive out of reach', async () => {
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      HIVE_URL: 'http://127.0.0.1:9', // nothing listens: the Device keeps reconnecting meanwhile
      DEVICE_TOKEN: 't'.repeat(32),
      DEVICE_PASSPHRASE: 'correct horse battery staple',
      STATE_DIR: join(dir, 'state'),
      APPS_DIR: join(dir, 'apps'),
      MONITOR_ADDRESS: '127.0.0.1:0',
      STORAGE_PLUGIN_MODE: 'external',
      STORAGE_PLUGIN_SOCKET: join(dir, 'storage.sock'),
    };
    const device = spawn('unshare', ['--pid', '--fork', '--kill-child', process.execPath, ...deviceNodeFlags(), MAIN], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    wrapper = device;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      device.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const seen = (chunk: Buffer) => {
        output += chunk.toString();
        if (/Mosaic Device .* started/.test(output)) resolve();
      };
      device.stdout!.on('data', seen);
      device.stderr!.on('data', seen);
      void exited.then(() => reject(new Error(`the Device ended before it started:\n${output}`)));
    });
    expect(output).toMatch(/health and metrics on http:\/\/127\.0\.0\.1:\d+\/health/);

    // The Device itself: unshare's only child, PID 1 inside its namespace.
    const inner = Number(execFileSync('pgrep', ['-P', String(device.pid)]).toString().trim());
    expect(execFileSync('ps', ['-o', 'args=', '-p', String(inner)]).toString()).toContain('main.js');
    process.kill(inner, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), EXIT_WITHIN_MS))),
    ]);
    clearTimeout(timer);
    expect(outcome).toEqual({ code: 0, signal: null });
  });
});
