import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { join } from 'node:path';
import type { TestHive } from '../../apps/hive/src/testing/test-hive';
import { e2eDeviceSettings, registerDevice, startE2eHive } from '../support/e2e-hive';
import { eventually } from '../support/eventually';
import { DeviceProcess } from '../support/device-process';
import { tempRoot } from '../support/device-harness';

jest.setTimeout(120_000);

/** One Prometheus sample without labels, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

function listen(server: Server, ...args: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    (server.listen as (...a: unknown[]) => Server)(...args, () => resolve());
  });
}

/**
 * A Device process meeting faults of its machine (issue 10): the device stays up, says why (one
 * log line, /health, a metric), keeps its link to the Hive and answers commands with clear errors.
 */
describe('a Device process when its machine fails it', () => {
  const root = tempRoot('e2e-faults');
  let hive: TestHive;
  const devices: DeviceProcess[] = [];
  const servers: Server[] = [];
  const mounts: string[] = [];

  const addDevice = (name: string) => registerDevice(hive, name);

  function startDevice(token: string, extra: Record<string, string> = {}): DeviceProcess {
    const settings = e2eDeviceSettings(hive, token, root.path, 'e2e-faults');
    const device = new DeviceProcess({ ...settings, STORAGE_PLUGIN_SOCKET: join(settings.STATE_DIR, '..', 'no-plugin.sock'), ...extra });
    devices.push(device);
    return device;
  }

  beforeAll(async () => {
    hive = await startE2eHive(join(root.path, 'hive.db'));
  });

  afterAll(async () => {
    for (const device of devices) await device.stop();
    await hive?.close();
    for (const server of servers) server.close();
    for (const mount of mounts) execFileSync('umount', [mount]);
    root.remove();
  });

  it('a MONITOR_ADDRESS another process holds: one clear line and status 78, before it goes to the Hive', async () => {
    const holder = createServer();
    servers.push(holder);
    await listen(holder, 0, '127.0.0.1');
    const address = `127.0.0.1:${(holder.address() as AddressInfo).port}`;
    const device = startDevice('not-used-token', { MONITOR_ADDRESS: address });

    expect(await device.exited).toBe(78);
    const lines = device.lines.filter((l) => l.includes('MONITOR_ADDRESS'));
    expect(lines).toEqual([
      `monitor: MONITOR_ADDRESS ${address} is in use by another process (another Device on this host?): set MONITOR_ADDRESS to a free host:port, or off`,
    ]);
    expect(device.output()).not.toMatch(/^\s+at /m); // no stack trace
    expect(device.output()).not.toMatch(/connecting to/);
  });

  it('an engine that accepts and never answers: it connects, says why, and answers with DOCKER_ERROR in time', async () => {
    const held = new Set<Socket>();
    const silent = createServer((socket) => held.add(socket));
    servers.push(silent);
    const socketPath = join(root.path, 'silent-engine.sock');
    await listen(silent, socketPath);
    const { id, token } = await addDevice('silent-engine');
    const device = startDevice(token, { DOCKER_HOST: `unix://${socketPath}`, ENGINE_TIMEOUT_S: '2' });
    const url = await device.monitorUrl();
    await device.waitForLine(/authenticated as device/);
    await device.waitForLine(new RegExp(`the Docker engine at unix://${socketPath} did not answer .* within 2 s`));

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      hive: { authenticated: true },
      engine: { reachable: false, error: expect.stringMatching(/did not answer/) },
    });
    expect(sample(await (await fetch(`${url}/metrics`)).text(), 'mosaic_device_engine_up')).toBe(0);

    const info = await hive.api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.info', params: {}, timeoutSeconds: 30 });
    expect(info.body).toMatchObject({
      status: 'failed',
      error: { code: 'DOCKER_ERROR', message: expect.stringMatching(/did not answer .* within 2 s/) },
    });
    const disk = await hive.api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.diskSpace', params: {}, timeoutSeconds: 30 });
    expect(disk.body.status).toBe('succeeded');
    for (const socket of held) socket.destroy();
  });

  it('a full STATE_DIR: one clear line, /health and a metric say so, commands still run; it writes again once there is room', async () => {
    const state = join(root.path, 'full-state');
    mkdirSync(state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', state]);
    mounts.push(state);
    const filler = join(state, 'filler');
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(4096));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const { id, token } = await addDevice('state-full');
    const device = startDevice(token, { STATE_DIR: state });
    const url = await device.monitorUrl();
    await device.waitForLine(/authenticated as device/);
    await device.waitForLine(/STATE_DIR .* is full/);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      hive: { authenticated: true },
      stateDir: { writable: false, error: expect.stringMatching(/ENOSPC/) },
    });
    expect(sample(await (await fetch(`${url}/metrics`)).text(), 'mosaic_device_state_dir_writable')).toBe(0);

    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const disk = await hive.api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.diskSpace', params: {} });
      expect(disk.body.status).toBe('succeeded');
      ids.push(disk.body.id);
    }
    expect(device.count(/STATE_DIR .* is full/)).toBe(1); // once per episode, however many writes fail

    rmSync(filler);
    await device.waitForLine(/STATE_DIR .* is writable again/);
    const healthy = await eventually(
      'the state folder healthy again',
      () => fetch(`${url}/health`).then((r) => r.json() as Promise<{ stateDir?: { writable: boolean } }>),
      (b) => b.stateDir?.writable === true,
    );
    expect(healthy.stateDir).toEqual({ writable: true });
    await eventually(
      'the journal on disk',
      async () => readFileSync(join(state, 'commands.json'), 'utf8'),
      (text) => ids.every((c) => text.includes(c)),
    );
  });
});
