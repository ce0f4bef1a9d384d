import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Events } from '@mosaic/protocol';
import type { Socket } from 'socket.io';
import { DeviceSessionRegistry } from '../../apps/hive/src/sessions/device-session-registry';
import type { TestHive } from '../../apps/hive/src/testing/test-hive';
import { e2eDeviceSettings, registerDevice, startE2eHive } from '../support/e2e-hive';
import { eventually } from '../support/eventually';
import { DeviceProcess } from '../support/device-process';
import { tempRoot } from '../support/device-harness';
import { pluginConfig, startPlugin } from '../support/storage-plugin';

const HEALTHCHECK = join(__dirname, '../../apps/device/healthcheck.js');

/** The image's HEALTHCHECK command, run as Docker runs it: its exit status. */
function healthcheck(monitorUrl: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HEALTHCHECK], { env: { MONITOR_ADDRESS: new URL(monitorUrl).host }, stdio: 'ignore' });
    child.once('exit', (code) => resolve(code));
  });
}

jest.setTimeout(90_000);

/** Polls the Hive's REST API until `check` passes; the device works in another process. */
describe('a Device process and the reference Hive over the protocol', () => {
  const root = tempRoot('e2e-foundation');
  const dbPath = join(root.path, 'hive.db');
  let hive: TestHive;
  const devices: DeviceProcess[] = [];

  const addDevice = (name: string) => registerDevice(hive, name);

  function startDevice(token: string, extra: Record<string, string> = {}): DeviceProcess {
    const device = new DeviceProcess({ ...e2eDeviceSettings(hive, token, root.path, 'e2e-device'), REPORT_APPS_INTERVAL_S: '1', ...extra });
    devices.push(device);
    return device;
  }

  beforeAll(async () => {
    hive = await startE2eHive(dbPath);
  });

  afterAll(async () => {
    for (const device of devices) await device.stop();
    await hive?.close();
    root.remove();
  });

  it('connects, proves the passphrase, reports, and answers a diskSpace command through the REST API with real numbers', async () => {
    const { id, token } = await addDevice('disk');
    const device = startDevice(token);
    await device.waitForLine(/authenticated as device/);
    const listed = await eventually('the device authenticated', () => hive.api.get(`/api/devices/${id}`), (r) => r.body.authenticated === true);
    expect(listed.body).toMatchObject({ id, name: 'disk', online: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    await eventually('its first reports', () => hive.api.get(`/api/devices/${id}/reports`), (r) => r.body.apps !== null && r.body.volumes !== null);

    const sent = await hive.api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.diskSpace', params: {} });
    expect(sent.status).toBe(200);
    expect(sent.body.status).toBe('succeeded');
    const [first] = sent.body.result.paths;
    expect(first.totalBytes).toBeGreaterThan(0);
    expect(first.availableBytes).toBeLessThanOrEqual(first.totalBytes);
    expect(first.freeBytes).toBeLessThanOrEqual(first.totalBytes);

    const info = await hive.api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.info', params: {} });
    expect(info.body.result).toMatchObject({ dockerVersion: expect.stringMatching(/\d+\.\d+/), composeVersion: expect.stringMatching(/^2\./) });
  });

  it('serves /health and the devtools module graph; the image HEALTHCHECK passes only while Hive and the plugin are there', async () => {
    const plugin = await startPlugin(pluginConfig(join(root.path, 'plugin')));
    const { token } = await addDevice('monitored');
    const device = startDevice(token, { STORAGE_PLUGIN_SOCKET: plugin.config.controlSocket, DEVTOOLS: 'true' });
    const url = await device.monitorUrl();
    await device.waitForLine(/authenticated as device/);
    expect(await device.waitForLine(/module graph: \d+ modules/)).toMatch(/no cycles/);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', hive: { connected: true, authenticated: true }, storagePlugin: { reachable: true } });
    expect(await healthcheck(url)).toBe(0);

    const graph = (await (await fetch(`${url}/devtools/graph`)).json()) as { nodes: object };
    const modules = Object.values(graph.nodes as Record<string, { label: string; metadata: { type: string } }>)
      .filter((n) => n.metadata.type === 'module')
      .map((n) => n.label);
    expect(modules).toEqual(expect.arrayContaining(['DeviceModule', 'CommandsModule', 'StorageModule', 'MonitorModule']));

    await plugin.close();
    const unhealthy = await fetch(`${url}/health`);
    expect(unhealthy.status).toBe(503);
    expect(await unhealthy.json()).toMatchObject({ storagePlugin: { reachable: false } });
    expect(await healthcheck(url)).toBe(1);
    await device.stop();
    expect(await healthcheck(url)).toBe(1); // nothing listens any more
  });

  it('runs a repeated command id once, and refuses an expired command', async () => {
    const { id, token } = await addDevice('dedup');
    const device = startDevice(token, { COMMAND_MAX_AGE_S: '60' });
    await device.waitForLine(/authenticated as device/);
    const first = await hive.api.post(`/api/devices/${id}/commands`, { type: 'SystemCommand.diskSpace', params: {} });
    expect(first.body.status).toBe('succeeded');

    const connection = hive.app.get(DeviceSessionRegistry).authenticatedConnection(id)!;
    const envelope = { id: first.body.id, type: 'SystemCommand.diskSpace', issuedAt: first.body.issuedAt, params: {} };
    const again = await connection.emitWithAck(Events.command, envelope, 5000);
    expect(again).toEqual({ id: first.body.id, accepted: true, duplicate: true });
    await device.waitForLine(new RegExp(`duplicate ${first.body.id}: sending its result again`));
    expect(device.count(new RegExp(`accepted SystemCommand.diskSpace ${first.body.id}`))).toBe(1);
    expect(device.count(new RegExp(`SystemCommand.diskSpace ${first.body.id} succeeded`))).toBe(1);

    const old = { id: randomUUID(), type: 'SystemCommand.diskSpace', issuedAt: new Date(Date.now() - 61_000).toISOString(), params: {} };
    expect(await connection.emitWithAck(Events.command, old, 5000)).toMatchObject({ id: old.id, accepted: false, error: { code: 'EXPIRED' } });
    const future = { ...old, id: randomUUID(), issuedAt: new Date(Date.now() + 120_000).toISOString() };
    expect(await connection.emitWithAck(Events.command, future, 5000)).toMatchObject({ accepted: false, error: { code: 'EXPIRED' } });
    const unknown = { ...old, id: randomUUID(), type: 'SystemCommand.shell', issuedAt: new Date().toISOString() };
    expect(await connection.emitWithAck(Events.command, unknown, 5000)).toMatchObject({ accepted: false, error: { code: 'UNKNOWN_COMMAND' } });
  });

  it('ends with status 78 and one clear line on a bad token', async () => {
    const device = startDevice('not-a-device-token');
    expect(await device.exited).toBe(78);
    expect(device.output()).toMatch(/UNAUTHORIZED/);
  });

  it('ends with status 78 and one clear line on a wrong passphrase', async () => {
    const { token } = await addDevice('wrong-passphrase');
    const device = startDevice(token, { DEVICE_PASSPHRASE: 'not the account passphrase' });
    expect(await device.exited).toBe(78);
    expect(device.output()).toMatch(/PASSPHRASE_MISMATCH/);
  });

  it('survives a Hive restart: it reconnects and no report or result is lost', async () => {
    const { id, token } = await addDevice('restart');
    const device = startDevice(token, { HIVE_ACK_TIMEOUT_S: '2' });
    await device.waitForLine(/authenticated as device/);

    // Hold back the next command.result and stop the Hive before it can be acknowledged.
    const port = hive.port;
    const registry = hive.app.get(DeviceSessionRegistry);
    const connection = registry.authenticatedConnection(id)!;
    // The test reaches into the Hive's socket (a fixture here, not the system under test) to drop one packet.
    const socket = (connection as unknown as { socket: Socket }).socket;
    const held = new Promise<void>((resolve) =>
      socket.use(([event], next) => (event === Events.commandResult ? resolve() : next())),
    );
    const commandId = randomUUID();
    const ack = await connection.emitWithAck(Events.command, { id: commandId, type: 'SystemCommand.info', issuedAt: new Date().toISOString(), params: {} }, 5000);
    expect(ack).toEqual({ id: commandId, accepted: true });
    await held;
    const stoppedAt = new Date().toISOString();
    await hive.close();

    await device.waitForLine(/reconnecting in/);
    const authentications = device.count(/authenticated as device/);
    hive = await startE2eHive(dbPath, port);
    await eventually('the device to authenticate again', async () => device.count(/authenticated as device/), (n) => n > authentications);
    const reports = await eventually('a report made after the restart', () => hive.api.get(`/api/devices/${id}/reports`), (r) => r.body.apps !== null && r.body.apps.at > stoppedAt);
    expect(reports.body.apps.at > stoppedAt).toBe(true);
    // The result held back before the restart arrives from the outbox; the new Hive never sent the command.
    expect(device.count(new RegExp(`SystemCommand.info ${commandId} succeeded`))).toBe(1);
    await device.waitForLine(new RegExp(`delivered result:${commandId}`));
  });
});
