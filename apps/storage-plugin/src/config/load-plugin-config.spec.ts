import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Env, loadPluginConfig } from './load-plugin-config';
import { PluginConfig } from './plugin-config';

function load(env: Env): PluginConfig {
  const result = loadPluginConfig(env);
  if (!result.ok) throw new Error(`expected a config, got errors:\n${result.errors.join('\n')}`);
  return result.config;
}

function errors(env: Env): string[] {
  const result = loadPluginConfig(env);
  if (result.ok) throw new Error('expected errors, got a config');
  return result.errors;
}

describe('loadPluginConfig', () => {
  it('has a default for every setting (docs/protocol.md §6 and the rest)', () => {
    const config = load({});
    expect(config).toEqual({
      driver: 'mosaic',
      pluginDir: '/run/docker/plugins',
      controlSocket: '/tmp/mosaic/storage.sock',
      dataDir: '/var/lib/mosaic/volumes',
      replicaUrl: '/var/lib/mosaic/replicas',
      replicationIntervalS: 300,
      retentionKeepLast: 24,
      retentionKeepDaily: 7,
      pruneIntervalS: 3600,
      retryBaseS: 5,
      retryMaxS: 600,
      resticBinary: 'restic',
      storeRetryS: 30,
      resticStallTimeoutS: 300,
      resticEnv: { RESTIC_CACHE_DIR: '/var/lib/mosaic/volumes/restic-cache', TZ: 'UTC' },
      logLevel: 'log',
      logFormat: 'text',
      metricsAddress: undefined,
      devtools: false,
      devtoolsServer: undefined,
    });
  });

  it('reads every variable by its exact name', () => {
    const config = load({
      STORAGE_DRIVER: 'mosaic-test',
      DOCKER_PLUGIN_DIR: '/tmp/plugins/',
      STORAGE_PLUGIN_SOCKET: '/tmp/c.sock',
      STORAGE_DATA_DIR: '/data',
      REPLICA_URL: 'rest:https://user:pw@backup.example.net:8000/mosaic/',
      REPLICATION_INTERVAL_S: '60',
      RETENTION_KEEP_LAST: '3',
      RETENTION_KEEP_DAILY: '0',
      RETENTION_PRUNE_INTERVAL_S: '0',
      REPLICATION_RETRY_BASE_S: '2',
      REPLICATION_RETRY_MAX_S: '30',
      RESTIC_BINARY: '/usr/local/bin/restic',
      RESTIC_STALL_TIMEOUT_S: '45',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
    });
    expect(config).toMatchObject({
      driver: 'mosaic-test',
      pluginDir: '/tmp/plugins',
      controlSocket: '/tmp/c.sock',
      dataDir: '/data',
      replicaUrl: 'rest:https://user:pw@backup.example.net:8000/mosaic',
      replicationIntervalS: 60,
      retentionKeepLast: 3,
      retentionKeepDaily: 0,
      pruneIntervalS: 0,
      retryBaseS: 2,
      retryMaxS: 30,
      resticBinary: '/usr/local/bin/restic',
      resticStallTimeoutS: 45,
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it.each([
    ['/srv/replicas'],
    ['local:/srv/replicas'],
    ['sftp:backup@host:/srv/replicas'],
    ['rest:http://127.0.0.1:8000/'],
    ['s3:https://s3.example.net/bucket/prefix'],
    ['b2:bucket:prefix'],
  ])('accepts the replica location %s', (url) => {
    expect(load({ REPLICA_URL: url }).replicaUrl).toBe(url.replace(/\/+$/, ''));
  });

  it('names each bad variable on its own line, and only those', () => {
    const lines = errors({
      STORAGE_DRIVER: 'Bad Name',
      DOCKER_PLUGIN_DIR: 'relative/dir',
      STORAGE_PLUGIN_SOCKET: `/tmp/${'x'.repeat(120)}.sock`,
      STORAGE_DATA_DIR: '/ok',
      REPLICA_URL: 'ftp://host/dir',
      REPLICATION_INTERVAL_S: '5m',
      RETENTION_KEEP_LAST: '0',
      RESTIC_BINARY: 'restic; rm -rf /',
      LOG_LEVEL: 'loud',
    });
    expect(lines).toHaveLength(8);
    for (const name of [
      'STORAGE_DRIVER',
      'DOCKER_PLUGIN_DIR',
      'STORAGE_PLUGIN_SOCKET',
      'REPLICA_URL',
      'REPLICATION_INTERVAL_S',
      'RETENTION_KEEP_LAST',
      'RESTIC_BINARY',
      'LOG_LEVEL',
    ]) {
      expect(lines.filter((line) => line.startsWith(`${name} `))).toHaveLength(1);
    }
  });

  it('never shows the credentials of a bad repository URL', () => {
    const [line] = errors({ REPLICA_URL: 'rest:ftp://user:secret@host/' });
    expect(line).toMatch(/^REPLICA_URL /);
    expect(line).not.toContain('secret');
  });

  it("passes restic's own backend variables through, and never a password or repository of its own", () => {
    const config = load({
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      RESTIC_CACERT: '/certs/ca.pem',
      RESTIC_PASSWORD: 'must not pass',
      RESTIC_PASSWORD_FILE: '/must/not/pass',
      RESTIC_REPOSITORY: 'must-not-pass',
      DEVICE_TOKEN: 'unrelated',
      HOME: '/root',
    });
    expect(config.resticEnv).toEqual({
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      RESTIC_CACERT: '/certs/ca.pem',
      HOME: '/root',
      RESTIC_CACHE_DIR: '/var/lib/mosaic/volumes/restic-cache',
      TZ: 'UTC',
    });
  });

  it('refuses a retry base longer than its cap', () => {
    expect(errors({ REPLICATION_RETRY_BASE_S: '60', REPLICATION_RETRY_MAX_S: '10' })).toEqual([
      expect.stringMatching(/^REPLICATION_RETRY_BASE_S /),
    ]);
  });
  describe("restic's credentials as NAME_FILE", () => {
    const dir = mkdtempSync(join(tmpdir(), 'msp-secret-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('hands restic the value read from the file, and not the file variable itself', () => {
      const file = join(dir, 'aws');
      writeFileSync(file, 'wJalrXUtnFEMI\n', { mode: 0o600 });
      const b2 = join(dir, 'b2');
      writeFileSync(b2, 'b2-key', { mode: 0o600 });
      const config = load({ AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY_FILE: file, B2_ACCOUNT_KEY_FILE: b2 });
      expect(config.resticEnv).toEqual({
        AWS_ACCESS_KEY_ID: 'AKIA',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI',
        B2_ACCOUNT_KEY: 'b2-key',
        RESTIC_CACHE_DIR: '/var/lib/mosaic/volumes/restic-cache',
        TZ: 'UTC',
      });
    });

    it('refuses a credential given both ways, and a file it cannot read, without showing either', () => {
      expect(errors({ AWS_SECRET_ACCESS_KEY: 'secret', AWS_SECRET_ACCESS_KEY_FILE: join(dir, 'aws') })).toEqual([
        'AWS_SECRET_ACCESS_KEY give AWS_SECRET_ACCESS_KEY or AWS_SECRET_ACCESS_KEY_FILE, not both',
      ]);
      expect(errors({ OS_PASSWORD_FILE: join(dir, 'missing') })).toEqual(['OS_PASSWORD_FILE cannot be read: ENOENT']);
    });
  });

  it('reads STORAGE_METRICS_ADDRESS and the devtools settings', () => {
    expect(load({ STORAGE_METRICS_ADDRESS: '0.0.0.0:9411' }).metricsAddress).toEqual({ host: '0.0.0.0', port: 9411 });
    expect(load({ DEVTOOLS: 'true' })).toMatchObject({ devtools: true, devtoolsServer: undefined });
    expect(load({ DEVTOOLS: 'true', DEVTOOLS_ALLOW_CODE: 'true' }).devtoolsServer).toEqual({ host: '127.0.0.1', port: 8000 });
    expect(errors({ STORAGE_METRICS_ADDRESS: '9411' })).toEqual([expect.stringMatching(/^STORAGE_METRICS_ADDRESS must be host:port/)]);
  });
});
