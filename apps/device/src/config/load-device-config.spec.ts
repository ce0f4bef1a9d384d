import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { TempDirs } from '../../../../test/support/device-fixtures';
import { DeviceConfig } from './device-config';
import { Env, loadDeviceConfig } from './load-device-config';
import { Secret } from './secret';

const PASSPHRASE = 'correct horse battery staple';
const TOKEN = 'tok_9f8e7d6c5b4a';

/** The smallest valid environment: only the required variables. */
const REQUIRED: Env = {
  HIVE_URL: 'https://hive.example.net',
  DEVICE_TOKEN: TOKEN,
  DEVICE_PASSPHRASE: PASSPHRASE,
};

function load(env: Env): DeviceConfig {
  const result = loadDeviceConfig(env);
  if (!result.ok) throw new Error(`expected a config, got errors:\n${result.errors.join('\n')}`);
  return result.config;
}

function errors(env: Env): string[] {
  const result = loadDeviceConfig(env);
  if (result.ok) throw new Error('expected errors, got a config');
  return result.errors;
}

describe('loadDeviceConfig', () => {
  const dirs = new TempDirs();
  afterEach(() => dirs.cleanup());

  describe('required variables', () => {
    it('names each missing required variable on its own line', () => {
      const lines = errors({});
      expect(lines).toHaveLength(3);
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^HIVE_URL is required/),
          expect.stringMatching(/^DEVICE_TOKEN is required/),
          expect.stringMatching(/^DEVICE_PASSPHRASE is required.*DEVICE_PASSPHRASE_FILE/),
        ]),
      );
    });

    it.each(['HIVE_URL', 'DEVICE_TOKEN', 'DEVICE_PASSPHRASE'])('refuses an environment without %s, and only for it', (name) => {
      const env = { ...REQUIRED, [name]: undefined };
      const lines = errors(env);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${name} is required`));
    });

    it('counts an empty variable as not set', () => {
      expect(errors({ ...REQUIRED, DEVICE_TOKEN: '' })).toEqual([expect.stringMatching(/^DEVICE_TOKEN is required/)]);
    });
  });

  describe('defaults (docs/protocol.md §5)', () => {
    it('fills every optional setting with its documented default', () => {
      const config = load(REQUIRED);
      expect(config).toMatchObject({
        hiveUrl: 'https://hive.example.net',
        deviceName: hostname(),
        appsDir: '/apps',
        stateDir: '/var/lib/mosaic/device',
        dockerHost: 'unix:///var/run/docker.sock',
        storageDriver: 'mosaic',
        storagePluginSocket: '/tmp/mosaic/storage.sock',
        storagePluginMode: 'external',
        autoUpdate: false,
        updater: 'mosaic',
        updaterImage: 'nickfedor/watchtower:1.21.0',
        upgradeTimeoutS: 600,
        commandMaxAgeS: 300,
        reportAppsIntervalS: 30,
        reportVolumesIntervalS: 60,
        reportVersionIntervalS: 3600,
        keysAhead: 100,
        monitor: { host: '127.0.0.1', port: 9410 },
        devtools: false,
        devtoolsServer: undefined,
        pluginContainer: { name: 'mosaic-storage-plugin', env: {} },
      });
      // Unset, the plugin's image follows the device's own at run time (StoragePluginInstaller).
      expect(config.pluginContainer.image).toBeUndefined();
      expect(config.deviceToken.reveal()).toBe(TOKEN);
      expect(config.passphrase.reveal()).toBe(PASSPHRASE);
    });

    it('takes given values over the defaults', () => {
      const config = load({
        ...REQUIRED,
        DEVICE_NAME: 'living-room-nas',
        APPS_DIR: '/srv/apps',
        STATE_DIR: '/srv/state',
        DOCKER_HOST: 'tcp://10.0.0.5:2375',
        STORAGE_DRIVER: 'mosaic-test',
        STORAGE_PLUGIN_SOCKET: '/run/mosaic/control.sock',
        STORAGE_PLUGIN_MODE: 'external',
        AUTO_UPDATE: 'true',
        UPDATER: 'watchtower',
        UPDATER_IMAGE: 'registry.example.net/watchtower:1.21.0',
        UPGRADE_TIMEOUT_S: '90',
        COMMAND_MAX_AGE_S: '120',
        REPORT_APPS_INTERVAL_S: '5',
        REPORT_VOLUMES_INTERVAL_S: '7',
        REPORT_VERSION_INTERVAL_S: '600',
        KEYS_AHEAD: '0',
      });
      expect(config).toMatchObject({
        deviceName: 'living-room-nas',
        appsDir: '/srv/apps',
        stateDir: '/srv/state',
        dockerHost: 'tcp://10.0.0.5:2375',
        storageDriver: 'mosaic-test',
        storagePluginSocket: '/run/mosaic/control.sock',
        storagePluginMode: 'external',
        autoUpdate: true,
        updater: 'watchtower',
        updaterImage: 'registry.example.net/watchtower:1.21.0',
        upgradeTimeoutS: 90,
        commandMaxAgeS: 120,
        reportAppsIntervalS: 5,
        reportVolumesIntervalS: 7,
        reportVersionIntervalS: 600,
        keysAhead: 0,
      });
    });

    it('turns the monitor off with MONITOR_ADDRESS=off, and listens anywhere with 0.0.0.0', () => {
      expect(load({ ...REQUIRED, MONITOR_ADDRESS: 'off' }).monitor).toBeUndefined();
      expect(load({ ...REQUIRED, MONITOR_ADDRESS: '0.0.0.0:9100' }).monitor).toEqual({ host: '0.0.0.0', port: 9100 });
    });

    it('container mode: hands the plugin its own settings and restic’s backend variables, nothing of the device’s', () => {
      const config = load({
        ...REQUIRED,
        STORAGE_PLUGIN_MODE: 'container',
        STORAGE_PLUGIN_IMAGE: 'registry.example.net/mosaic/storage-plugin:1.2.3',
        STORAGE_PLUGIN_CONTAINER: 'nas-storage',
        REPLICA_URL: 's3:https://s3.example.net/backups',
        REPLICATION_INTERVAL_S: '120',
        AWS_ACCESS_KEY_ID: 'AKIA',
        AWS_SECRET_ACCESS_KEY: 'secret',
        RESTIC_PASSWORD: 'never',
        DOCKER_HOST: 'unix:///var/run/docker.sock',
        PATH: '/usr/bin',
      });
      expect(config.storagePluginMode).toBe('container');
      expect(config.pluginContainer).toEqual({
        image: 'registry.example.net/mosaic/storage-plugin:1.2.3',
        name: 'nas-storage',
        env: { REPLICA_URL: 's3:https://s3.example.net/backups', REPLICATION_INTERVAL_S: '120', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'secret' },
      });
    });

    it('drops trailing slashes from HIVE_URL', () => {
      expect(load({ ...REQUIRED, HIVE_URL: 'https://hive.local:3000/' }).hiveUrl).toBe('https://hive.local:3000');
    });

    it.each([
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['no', false],
    ])('reads AUTO_UPDATE=%s as %s', (value, expected) => {
      expect(load({ ...REQUIRED, AUTO_UPDATE: value }).autoUpdate).toBe(expected);
    });
  });

  describe('plain http to the Hive', () => {
    it.each(['http://hive.example.net', 'http://hive:8080', 'http://10.0.0.5:8080', 'http://192.168.1.2', 'http://[fe80::1]:8080', 'http://localhost.example.net', 'http://127.0.0.1.example.net', 'http://[::ffff:127.0.0.1]'])(
      'refuses %s without HIVE_ALLOW_INSECURE=true: the token and the proof would cross the network in the clear',
      (url) => {
        const lines = errors({ ...REQUIRED, HIVE_URL: url });
        expect(lines).toEqual([expect.stringMatching(/^HIVE_URL .*plain http to a Hive that is not on this machine.*https.*HIVE_ALLOW_INSECURE=true/)]);
      },
    );

    it.each(['http://127.0.0.1:8080', 'http://127.1.2.3', 'http://127.1:8080', 'http://localhost:8080', 'http://LOCALHOST', 'http://[::1]:8080'])('accepts plain http to loopback: %s', (url) => {
      expect(load({ ...REQUIRED, HIVE_URL: url }).hiveUrl).toBe(url);
    });

    it('accepts plain http to another host when HIVE_ALLOW_INSECURE=true, and says so in the config', () => {
      const config = load({ ...REQUIRED, HIVE_URL: 'http://hive:8080', HIVE_ALLOW_INSECURE: 'true' });
      expect(config.hiveUrl).toBe('http://hive:8080');
      expect(config.hiveAllowInsecure).toBe(true);
    });

    it('accepts https anywhere, and defaults HIVE_ALLOW_INSECURE to false', () => {
      expect(load(REQUIRED).hiveAllowInsecure).toBe(false);
      expect(load({ ...REQUIRED, HIVE_URL: 'https://10.0.0.5:8443' }).hiveUrl).toBe('https://10.0.0.5:8443');
    });

    it('refuses a HIVE_ALLOW_INSECURE that is not a boolean', () => {
      expect(errors({ ...REQUIRED, HIVE_ALLOW_INSECURE: 'sometimes' })).toEqual([expect.stringMatching(/^HIVE_ALLOW_INSECURE must be true or false/)]);
    });
  });

  describe('malformed values: one line naming the variable', () => {
    it.each([
      ['HIVE_URL', 'hive.example.net', /http\(s\) URL/],
      ['HIVE_URL', 'ftp://hive.example.net', /http\(s\) URL/],
      ['HIVE_URL', 'ws://hive.example.net', /http\(s\) URL/],
      ['APPS_DIR', 'apps', /absolute path/],
      ['STATE_DIR', './state', /absolute path/],
      ['VOLUMES_DIR', 'volumes', /absolute path/],
      ['STORAGE_PLUGIN_SOCKET', 'storage.sock', /absolute path/],
      ['AUTO_UPDATE', 'maybe', /true or false/],
      ['AUTO_UPDATE', 'on', /true or false/],
      ['COMMAND_MAX_AGE_S', 'five', /whole number of seconds/],
      ['COMMAND_MAX_AGE_S', '0', /whole number of seconds/],
      ['COMMAND_MAX_AGE_S', '-5', /whole number of seconds/],
      ['COMMAND_MAX_AGE_S', '1.5', /whole number of seconds/],
      ['COMMAND_MAX_AGE_S', '86401', /whole number of seconds/],
      ['REPORT_APPS_INTERVAL_S', '30s', /whole number of seconds/],
      ['REPORT_VOLUMES_INTERVAL_S', '1e3', /whole number of seconds/],
      ['REPORT_VERSION_INTERVAL_S', ' 60', /whole number of seconds/],
      ['STORAGE_PLUGIN_MODE', 'internal', /one of external, container/],
      ['UPDATER', 'docker', /one of mosaic, watchtower/],
      ['UPGRADE_TIMEOUT_S', '10', /whole number of seconds from 30 to 3600/],
      ['UPGRADE_TIMEOUT_S', '3601', /whole number of seconds from 30 to 3600/],
      ['KEYS_AHEAD', '1001', /whole number from 0 to 1000/],
      ['KEYS_AHEAD', 'all', /whole number from 0 to 1000/],
      ['STORAGE_PLUGIN_IMAGE', 'Mosaic Plugin', /image reference/],
      ['STORAGE_PLUGIN_CONTAINER', '../plugin', /container name/],
      ['MONITOR_ADDRESS', '9410', /host:port/],
      ['MONITOR_ADDRESS', '127.0.0.1:70000', /host:port/],
      ['MONITOR_ADDRESS', 'http://127.0.0.1:9410', /host:port/],
      ['DEVTOOLS', 'on', /true or false/],
      ['STORAGE_PLUGIN_MODE', 'External', /one of external, container/],
      ['DOCKER_HOST', '/var/run/docker.sock', /unix:\/\/\/path or tcp:\/\/host:port/],
      ['DOCKER_HOST', 'unix://docker.sock', /unix:\/\/\/path or tcp:\/\/host:port/],
      ['DOCKER_HOST', 'tcp://10.0.0.5', /unix:\/\/\/path or tcp:\/\/host:port/],
      ['DOCKER_HOST', 'http://10.0.0.5:2375', /unix:\/\/\/path or tcp:\/\/host:port/],
      ['STORAGE_DRIVER', 'Mosaic Driver', /driver name/],
      ['DEVICE_NAME', 'name\nwith newline', /printable/],
      ['DEVICE_TOKEN', 'token\u0000', /printable/],
    ])('%s=%j', (name, value, why) => {
      const lines = errors({ ...REQUIRED, [name]: value });
      expect(lines).toHaveLength(1);
      expect(lines[0].startsWith(`${name} `)).toBe(true);
      expect(lines[0]).toMatch(why);
    });

    it('reports every bad variable at once, one line each', () => {
      const lines = errors({
        HIVE_URL: 'not a url',
        DEVICE_TOKEN: TOKEN,
        DEVICE_PASSPHRASE: PASSPHRASE,
        APPS_DIR: 'apps',
        STATE_DIR: 'state',
        AUTO_UPDATE: 'perhaps',
        COMMAND_MAX_AGE_S: 'soon',
        STORAGE_PLUGIN_MODE: 'sidecar',
        DOCKER_HOST: 'docker.sock',
      });
      expect(lines.map((line) => line.split(' ')[0]).sort()).toEqual(
        ['APPS_DIR', 'AUTO_UPDATE', 'COMMAND_MAX_AGE_S', 'DOCKER_HOST', 'HIVE_URL', 'STATE_DIR', 'STORAGE_PLUGIN_MODE'].sort(),
      );
    });

    it('quotes the bad value so the operator sees what was read', () => {
      expect(errors({ ...REQUIRED, STORAGE_PLUGIN_MODE: 'sidecar' })[0]).toContain('"sidecar"');
    });
  });

  describe('ALLOW_PRIVILEGED_APPS: an app and the template the operator approved', () => {
    const A = 'a'.repeat(64);
    const B = '0123456789abcdef'.repeat(4);

    it('is empty by default', () => {
      expect(load(REQUIRED).allowPrivilegedApps).toEqual([]);
    });

    it('reads name@sha256:<digest> entries', () => {
      expect(load({ ...REQUIRED, ALLOW_PRIVILEGED_APPS: `portainer@sha256:${A}, netdata@sha256:${B}` }).allowPrivilegedApps).toEqual([
        { name: 'portainer', sha256: A },
        { name: 'netdata', sha256: B },
      ]);
    });

    it('refuses an old name-only entry at boot, saying what to write instead', () => {
      const lines = errors({ ...REQUIRED, ALLOW_PRIVILEGED_APPS: `portainer, netdata@sha256:${B}` });
      expect(lines).toEqual([expect.stringMatching(/^ALLOW_PRIVILEGED_APPS names an app without the template approved for it \(portainer\); write name@sha256:/)]);
    });

    it.each([
      ['an upper-case digest', `portainer@sha256:${A.toUpperCase()}`],
      ['a short digest', 'portainer@sha256:abc123'],
      ['another algorithm', `portainer@sha512:${A}`],
      ['a bad name', `Portainer@sha256:${A}`],
    ])('refuses %s', (_label, value) => {
      expect(errors({ ...REQUIRED, ALLOW_PRIVILEGED_APPS: value })).toEqual([expect.stringMatching(/^ALLOW_PRIVILEGED_APPS must be a comma-separated list of name@sha256:<64 hex digits>; bad: /)]);
    });
  });

  describe('DEVICE_PASSPHRASE_FILE', () => {
    function passphraseFile(content: string): string {
      const path = join(dirs.make(), 'passphrase');
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    }
    const withFile = (path: string): Env => ({ ...REQUIRED, DEVICE_PASSPHRASE: undefined, DEVICE_PASSPHRASE_FILE: path });

    it('reads the passphrase from the file and strips one trailing newline', () => {
      expect(load(withFile(passphraseFile(`${PASSPHRASE}\n`))).passphrase.reveal()).toBe(PASSPHRASE);
    });

    it('strips a trailing CRLF too', () => {
      expect(load(withFile(passphraseFile(`${PASSPHRASE}\r\n`))).passphrase.reveal()).toBe(PASSPHRASE);
    });

    it('keeps a file without a trailing newline as it is', () => {
      expect(load(withFile(passphraseFile(PASSPHRASE))).passphrase.reveal()).toBe(PASSPHRASE);
    });

    it('reads DEVICE_TOKEN from DEVICE_TOKEN_FILE the same way, and names that variable when it cannot', () => {
      const file = passphraseFile('token-from-a-file-0123\n');
      expect(load({ ...REQUIRED, DEVICE_TOKEN: undefined, DEVICE_TOKEN_FILE: file }).deviceToken.reveal()).toBe('token-from-a-file-0123');
      expect(errors({ ...REQUIRED, DEVICE_TOKEN: undefined, DEVICE_TOKEN_FILE: '/nonexistent/token' })).toEqual([expect.stringMatching(/^DEVICE_TOKEN_FILE cannot be read: ENOENT/)]);
      expect(errors({ ...REQUIRED, DEVICE_TOKEN_FILE: file })).toEqual([expect.stringMatching(/^DEVICE_TOKEN give DEVICE_TOKEN or DEVICE_TOKEN_FILE, not both/)]);
    });

    it('refuses DEVICE_PASSPHRASE and DEVICE_PASSPHRASE_FILE together', () => {
      const lines = errors({ ...REQUIRED, DEVICE_PASSPHRASE_FILE: passphraseFile(PASSPHRASE) });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/DEVICE_PASSPHRASE or DEVICE_PASSPHRASE_FILE, not both/);
    });

    it('refuses a file that does not exist, naming the variable and the cause', () => {
      const lines = errors(withFile(join(dirs.make(), 'missing')));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/DEVICE_PASSPHRASE_FILE cannot be read: ENOENT/);
    });

    it('refuses a path that is a directory', () => {
      const lines = errors(withFile(dirs.make()));
      expect(lines).toEqual([expect.stringMatching(/DEVICE_PASSPHRASE_FILE cannot be read: EISDIR/)]);
    });

    it('refuses a passphrase shorter than 8 characters, from either source', () => {
      expect(errors({ ...REQUIRED, DEVICE_PASSPHRASE: 'short' })).toEqual([expect.stringMatching(/^DEVICE_PASSPHRASE must be at least 8/)]);
      expect(errors(withFile(passphraseFile('short\n')))).toEqual([expect.stringMatching(/at least 8 characters/)]);
    });
  });

  describe('secrets', () => {
    const secretEnv = { ...REQUIRED, DEVICE_TOKEN: 'tok-LEAKCHECK-1', DEVICE_PASSPHRASE: 'pass-LEAKCHECK-2' };

    it('never shows the token or the passphrase in JSON.stringify(config)', () => {
      const json = JSON.stringify(load(secretEnv));
      expect(json).not.toContain('LEAKCHECK');
      expect(JSON.parse(json)).toMatchObject({ deviceToken: '[secret]', passphrase: '[secret]' });
    });

    it('never shows them in util.inspect(config), even deeply', () => {
      const text = inspect(load(secretEnv), { depth: Infinity, showHidden: true });
      expect(text).not.toContain('LEAKCHECK');
      expect(text).toContain('[secret]');
    });

    it('never shows them in string interpolation or Object.entries', () => {
      const config = load(secretEnv);
      expect(`${config.deviceToken} ${config.passphrase}`).toBe('[secret] [secret]');
      expect(Object.keys(config.passphrase)).toEqual([]);
    });

    it('still gives the value to code that asks for it', () => {
      const config = load(secretEnv);
      expect(config.deviceToken).toBeInstanceOf(Secret);
      expect(config.deviceToken.reveal()).toBe('tok-LEAKCHECK-1');
      expect(config.passphrase.reveal()).toBe('pass-LEAKCHECK-2');
    });
  });
  describe('Nest devtools (README, "Nest devtools")', () => {
    it('gives the devtools server an address only when DEVTOOLS_ALLOW_CODE=true joins DEVTOOLS=true', () => {
      expect(load({ ...REQUIRED, DEVTOOLS: 'true' })).toMatchObject({ devtools: true, devtoolsServer: undefined });
      expect(load({ ...REQUIRED, DEVTOOLS_ALLOW_CODE: 'true' })).toMatchObject({ devtools: false, devtoolsServer: undefined });
      expect(load({ ...REQUIRED, DEVTOOLS: 'true', DEVTOOLS_ALLOW_CODE: 'true', DEVTOOLS_ADDRESS: '127.0.0.1:8123' }).devtoolsServer).toEqual({
        host: '127.0.0.1',
        port: 8123,
      });
    });

    it('refuses a devtools address off loopback', () => {
      expect(errors({ ...REQUIRED, DEVTOOLS: 'true', DEVTOOLS_ALLOW_CODE: 'true', DEVTOOLS_ADDRESS: '0.0.0.0:8000' })).toEqual([
        expect.stringMatching(/^DEVTOOLS_ADDRESS must be a loopback address/),
      ]);
    });
  });
});
