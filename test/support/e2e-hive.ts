import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { derivePassphraseVerifier } from '@mosaic/protocol';
import type { HiveOptions } from '../../apps/hive/src/config/hive-config';
import type { HiveApiClient } from '../../apps/hive/src/testing/hive-api-client';
import { TestHive, startTestHive } from '../../apps/hive/src/testing/test-hive';
import { eventually } from './eventually';

export const E2E_PASSPHRASE = 'correct horse battery staple';

/**
 * The reference Hive in-process on a free port (loopback unless `host` says otherwise), its
 * account's passphrase set as a user would; `options` sets more of its configuration.
 */
export async function startE2eHive(dbPath: string, port?: number, host?: string, options: Partial<HiveOptions> = {}): Promise<TestHive> {
  const hive = await startTestHive({ ...options, dbPath, ...(port ? { port } : {}), ...(host ? { host } : {}) });
  const { body } = await hive.api.get('/api/account');
  if (!body.passphrase.set) {
    await hive.api.put('/api/account/passphrase', { verifier: await derivePassphraseVerifier(E2E_PASSPHRASE, body.passphrase.salt) });
  }
  return hive;
}

/** A device added through the Hive's REST API: its id and its token. */
export async function registerDevice(hive: TestHive, name: string): Promise<{ id: string; token: string }> {
  const created = await hive.api.post('/api/devices', { name });
  if (created.status !== 201) throw new Error(`adding device ${name} failed: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body;
}

/** The settings of a Device process for `hive`, its apps and state in a new folder under `root`. */
export function e2eDeviceSettings(hive: Pick<TestHive, 'url'>, token: string, root: string, name: string): Record<string, string> {
  const dir = join(root, randomUUID());
  return {
    HIVE_URL: hive.url,
    DEVICE_TOKEN: token,
    DEVICE_PASSPHRASE: E2E_PASSPHRASE,
    DEVICE_NAME: name,
    APPS_DIR: join(dir, 'apps'),
    STATE_DIR: join(dir, 'state'),
    VOLUMES_DIR: root,
  };
}

/**
 * The settings of a Device process on a machine of its own (an engine and a plugin of the test's),
 * its apps and state under `dir`, reporting apps every 2 s and volumes every second.
 */
export function machineDeviceSettings(
  hive: Pick<TestHive, 'url'>,
  token: string,
  name: string,
  dir: string,
  engine: { socket: string },
  plugin: { config: { controlSocket: string; dataDir: string } },
): Record<string, string> {
  return {
    HIVE_URL: hive.url,
    DEVICE_TOKEN: token,
    DEVICE_PASSPHRASE: E2E_PASSPHRASE,
    DEVICE_NAME: name,
    DOCKER_HOST: `unix://${engine.socket}`,
    STORAGE_PLUGIN_SOCKET: plugin.config.controlSocket,
    APPS_DIR: join(dir, 'apps'),
    STATE_DIR: join(dir, 'state'),
    VOLUMES_DIR: plugin.config.dataDir,
    REPORT_APPS_INTERVAL_S: '2',
    REPORT_VOLUMES_INTERVAL_S: '1',
  };
}

/** Installs a catalog app through Hive's REST API and waits until Hive shows it running with both volumes. */
export async function installCatalogApp(api: HiveApiClient, deviceId: string, app: string, variables: Record<string, string>, timeoutMs = 120_000) {
  const installed = await api.post(`/api/devices/${deviceId}/apps`, { app, variables, timeoutSeconds: Math.round(timeoutMs / 1000) });
  if (installed.status !== 201) throw new Error(`installing ${app} failed: ${installed.status} ${JSON.stringify(installed.body)}`);
  const instance: string = installed.body.instance;
  return eventually(
    'the app running with both volumes reported',
    () => api.get(`/api/apps/${instance}`).then((r) => r.body),
    (v) => v.state === 'running' && v.volumes.length === 2,
    timeoutMs,
  );
}
