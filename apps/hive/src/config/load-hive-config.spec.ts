import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { version as REPOSITORY_VERSION } from '../../../../package.json';
import { defaultCatalogDir, defaultConsoleDir } from './default-catalog-dir';
import { loadHiveConfig, resolveHiveConfig } from './load-hive-config';

const TOKEN = '0123456789abcdef0123';
/** The repository's catalog, seen from this spec's folder (apps/hive/src/config). */
const REPO_CATALOG = join(__dirname, '../../../../catalog');
/** Where the Console is looked for by default (built or not). */
const CONSOLE_DIR = defaultConsoleDir();

describe('loadHiveConfig', () => {
  describe('HIVE_ADMIN_TOKEN_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mosaic-hive-token-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the admin token from the file, without its trailing newline', () => {
      const file = join(dir, 'admin-token');
      writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
      const loaded = loadHiveConfig({ HIVE_ADMIN_TOKEN_FILE: file });
      expect(loaded.ok && loaded.config.adminToken).toBe(TOKEN);
    });

    it('refuses the token and its file together, and a file it cannot read, without echoing the token', () => {
      const both = loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, HIVE_ADMIN_TOKEN_FILE: join(dir, 'admin-token') });
      expect(both).toEqual({ ok: false, errors: ['HIVE_ADMIN_TOKEN: give HIVE_ADMIN_TOKEN or HIVE_ADMIN_TOKEN_FILE, not both'] });
      expect(loadHiveConfig({ HIVE_ADMIN_TOKEN_FILE: join(dir, 'missing') })).toEqual({
        ok: false,
        errors: ['HIVE_ADMIN_TOKEN_FILE: cannot be read: ENOENT'],
      });
    });

    it('checks a token from a file like one from the environment', () => {
      const file = join(dir, 'short');
      writeFileSync(file, 'short\n');
      expect(loadHiveConfig({ HIVE_ADMIN_TOKEN_FILE: file })).toEqual({ ok: false, errors: [expect.stringMatching(/^HIVE_ADMIN_TOKEN: must be at least 16/)] });
    });
  });

  describe('HIVE_DATABASE_URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mosaic-hive-dburl-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const URL_WITH_PASSWORD = 'postgres://hive:s3cret-pw@db.example:5432/hive';

    it('selects PostgreSQL, from the variable or from its file', () => {
      const direct = loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, HIVE_DATABASE_URL: URL_WITH_PASSWORD });
      expect(direct.ok && direct.config.databaseUrl).toBe(URL_WITH_PASSWORD);
      const file = join(dir, 'database-url');
      writeFileSync(file, 'postgresql://hive@/hive?host=/run/postgresql\n', { mode: 0o600 });
      const fromFile = loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, HIVE_DATABASE_URL_FILE: file });
      expect(fromFile.ok && fromFile.config.databaseUrl).toBe('postgresql://hive@/hive?host=/run/postgresql');
      const absent = loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN });
      expect(absent.ok && 'databaseUrl' in absent.config).toBe(false);
    });

    it.each([
      ['mysql://hive:s3cret-pw@db/hive', /must start with postgres:\/\/ or postgresql:\/\//],
      ['not a url s3cret-pw', /must be a URL such as postgres:/],
      ['postgres://hive:s3cret-pw@db.example:5432/', /must name one database/],
      ['postgres://hive:s3cret-pw@/hive', /must name a host, or a unix socket folder/],
      ['postgres://hive:s3cret-pw@db/hive?host=run/pg', /\?host= must be an absolute folder path/],
      ['postgres://hive:s3cret-pw@db/hive?sslmode=sometimes', /sslmode must be one of/],
      ['postgres://hive:s3cret-pw@db/hive?options=-c%20x', /\?options= is not understood/],
    ])('refuses %s with a clear error that never shows the password', (url, problem) => {
      const loaded = loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, HIVE_DATABASE_URL: url });
      expect(loaded.ok).toBe(false);
      const errors = loaded.ok ? [] : loaded.errors;
      expect(errors).toEqual([expect.stringMatching(/^HIVE_DATABASE_URL: /)]);
      expect(errors[0]).toMatch(problem);
      expect(errors.join('\n')).not.toContain('s3cret-pw');
    });

    it('refuses the URL and its file together, and a file it cannot read', () => {
      expect(loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, HIVE_DATABASE_URL: URL_WITH_PASSWORD, HIVE_DATABASE_URL_FILE: join(dir, 'x') })).toEqual({
        ok: false,
        errors: ['HIVE_DATABASE_URL: give HIVE_DATABASE_URL or HIVE_DATABASE_URL_FILE, not both'],
      });
      expect(loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, HIVE_DATABASE_URL_FILE: join(dir, 'missing') })).toEqual({
        ok: false,
        errors: ['HIVE_DATABASE_URL_FILE: cannot be read: ENOENT'],
      });
    });
  });

  it('refuses a bad LOG_FORMAT, LOG_LEVEL or DEVTOOLS_ADDRESS, naming each', () => {
    const loaded = loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, LOG_FORMAT: 'xml', LOG_LEVEL: 'loud', DEVTOOLS: 'true', DEVTOOLS_ADDRESS: '0.0.0.0:8000' });
    expect(loaded.ok ? [] : loaded.errors.map((e) => e.split(':')[0])).toEqual(['LOG_LEVEL', 'LOG_FORMAT', 'DEVTOOLS_ADDRESS']);
  });

  it('applies the defaults when only the admin token is set', () => {
    expect(loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN })).toEqual({
      ok: true,
      config: {
        adminToken: TOKEN,
        port: 8080,
        host: '127.0.0.1',
        dbPath: '/var/lib/mosaic/hive/hive.db',
        commandTimeoutS: 30,
        catalogDir: REPO_CATALOG,
        deviceVersion: REPOSITORY_VERSION,
        logLevel: 'log',
        logFormat: 'text',
        devtools: false,
        publicUrl: null,
        consoleDir: CONSOLE_DIR,
      },
    });
  });

  it('reads every variable, port 0 and :memory: included', () => {
    expect(
      loadHiveConfig({
        HIVE_ADMIN_TOKEN: TOKEN,
        HIVE_PORT: '0',
        HIVE_HOST: '0.0.0.0',
        HIVE_DB: ':memory:',
        HIVE_COMMAND_TIMEOUT_S: '600',
        HIVE_CATALOG_DIR: '/srv/catalog',
        HIVE_DEVICE_VERSION: '2.1.0-rc.1',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        DEVTOOLS: 'true',
        DEVTOOLS_ADDRESS: '127.0.0.1:8001',
        HIVE_PUBLIC_URL: 'https://hive.example.net:8443/',
        HIVE_CONSOLE_DIR: '/srv/console',
        HIVE_DEVICE_IMAGE: 'registry.example:5000/mosaic/device@sha256:' + 'a'.repeat(64),
        HIVE_LEASE_TTL_S: '30',
      }),
    ).toEqual({
      ok: true,
      config: {
        adminToken: TOKEN,
        port: 0,
        host: '0.0.0.0',
        dbPath: ':memory:',
        commandTimeoutS: 600,
        catalogDir: '/srv/catalog',
        deviceVersion: '2.1.0-rc.1',
        logLevel: 'debug',
        logFormat: 'json',
        devtools: true,
        devtoolsServer: { host: '127.0.0.1', port: 8001 },
        publicUrl: 'https://hive.example.net:8443',
        consoleDir: '/srv/console',
        deviceImage: 'registry.example:5000/mosaic/device@sha256:' + 'a'.repeat(64),
        leaseTtlMs: 30_000,
      },
    });
  });

  it('treats an empty variable as unset', () => {
    const loaded = loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, HIVE_PORT: '' });
    expect(loaded.ok && loaded.config.port).toBe(8080);
  });

  it('names every bad variable on its own line', () => {
    const loaded = loadHiveConfig({ HIVE_PORT: '80a', HIVE_HOST: 'bad host', HIVE_COMMAND_TIMEOUT_S: '601' });
    expect(loaded.ok).toBe(false);
    const errors = loaded.ok ? [] : loaded.errors;
    expect(errors.map((line) => line.split(':')[0])).toEqual(['HIVE_ADMIN_TOKEN', 'HIVE_PORT', 'HIVE_HOST', 'HIVE_COMMAND_TIMEOUT_S']);
    expect(errors[1]).toContain('"80a"');
  });

  it.each([
    ['a port above 65535', { HIVE_PORT: '65536' }, 'HIVE_PORT'],
    ['a negative port', { HIVE_PORT: '-1' }, 'HIVE_PORT'],
    ['a port in exponent notation', { HIVE_PORT: '8e3' }, 'HIVE_PORT'],
    ['a zero timeout', { HIVE_COMMAND_TIMEOUT_S: '0' }, 'HIVE_COMMAND_TIMEOUT_S'],
    ['a fractional timeout', { HIVE_COMMAND_TIMEOUT_S: '1.5' }, 'HIVE_COMMAND_TIMEOUT_S'],
    ['a lease TTL below 3 s', { HIVE_LEASE_TTL_S: '2' }, 'HIVE_LEASE_TTL_S'],
    ['a lease TTL above 10 minutes', { HIVE_LEASE_TTL_S: '601' }, 'HIVE_LEASE_TTL_S'],
    ['a lease TTL in milliseconds', { HIVE_LEASE_TTL_S: '15000ms' }, 'HIVE_LEASE_TTL_S'],
    ['a 15-character admin token', { HIVE_ADMIN_TOKEN: '0123456789abcde' }, 'HIVE_ADMIN_TOKEN'],
    ['an admin token with a space', { HIVE_ADMIN_TOKEN: '0123456789 abcdef' }, 'HIVE_ADMIN_TOKEN'],
    ['a device version that is not semver', { HIVE_DEVICE_VERSION: 'v1.2' }, 'HIVE_DEVICE_VERSION'],
    ['a device version with a leading zero', { HIVE_DEVICE_VERSION: '1.02.0' }, 'HIVE_DEVICE_VERSION'],
    ['a public URL with a path', { HIVE_PUBLIC_URL: 'https://hive.example.net/mosaic' }, 'HIVE_PUBLIC_URL'],
    ['a public URL with credentials', { HIVE_PUBLIC_URL: 'https://user:pw@hive.example.net' }, 'HIVE_PUBLIC_URL'],
    ['a public URL of another scheme', { HIVE_PUBLIC_URL: 'ftp://hive.example.net' }, 'HIVE_PUBLIC_URL'],
    ['a device image that is no image reference', { HIVE_DEVICE_IMAGE: 'mosaic/device:1.0 --privileged' }, 'HIVE_DEVICE_IMAGE'],
    ['a device image in upper case', { HIVE_DEVICE_IMAGE: 'Mosaic/Device:1.0.0' }, 'HIVE_DEVICE_IMAGE'],
  ])('refuses %s', (_label, env, variable) => {
    const loaded = loadHiveConfig({ HIVE_ADMIN_TOKEN: TOKEN, ...env });
    expect(loaded.ok ? [] : loaded.errors.map((line) => line.split(':')[0])).toEqual([variable]);
  });

  it('never echoes the admin token', () => {
    const loaded = loadHiveConfig({ HIVE_ADMIN_TOKEN: 'short secret' });
    expect(loaded.ok ? '' : loaded.errors.join('\n')).not.toContain('short secret');
  });
});

describe('resolveHiveConfig', () => {
  it('fills the defaults for in-process Hives', () => {
    expect(resolveHiveConfig({ adminToken: TOKEN, port: 0, dbPath: ':memory:' })).toEqual({
      adminToken: TOKEN,
      port: 0,
      host: '127.0.0.1',
      dbPath: ':memory:',
      commandTimeoutS: 30,
      catalogDir: REPO_CATALOG,
      deviceVersion: REPOSITORY_VERSION,
      logLevel: 'log',
      logFormat: 'text',
      devtools: false,
      publicUrl: null,
      consoleDir: CONSOLE_DIR,
    });
  });

  it('refuses what the environment would refuse', () => {
    expect(() => resolveHiveConfig({ adminToken: 'short', port: 70000 })).toThrow(/HIVE_ADMIN_TOKEN.*HIVE_PORT/);
  });
});

describe('defaultCatalogDir', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hive-catalog-dir-'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'catalog'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds the catalog beside package.json from the bundle (dist/apps/hive) and from the sources', () => {
    for (const from of ['dist/apps/hive', 'apps/hive/src/config']) {
      mkdirSync(join(root, from), { recursive: true });
      expect(defaultCatalogDir(join(root, from))).toBe(join(root, 'catalog'));
    }
  });

  it('assumes the bundle layout when no catalog is found', () => {
    rmSync(join(root, 'catalog'), { recursive: true });
    mkdirSync(join(root, 'dist/apps/hive'), { recursive: true });
    expect(defaultCatalogDir(join(root, 'dist/apps/hive'))).toBe(join(root, 'catalog'));
  });
});
