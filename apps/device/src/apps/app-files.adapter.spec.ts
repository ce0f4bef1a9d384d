import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempDirs, deviceConfig } from '../../../../test/support/device-fixtures';
import { AppFilesAdapter, AppMetadata } from './app-files.adapter';

const A = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const B = 'c232ab00-9414-11ec-b3c8-9f6bdeced846';
const COMPOSE = 'services:\n  web:\n    image: mosaic-test/busybox\n';

function metadata(overrides: Partial<AppMetadata> = {}): AppMetadata {
  return {
    instance: A,
    application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: '2.5' },
    desired: 'running',
    commands: { 'read-page': { service: 'web', argv: ['cat', '/data/index.html'], args: {}, timeoutSeconds: 60 } },
    links: { default: { domain: 'brave-otter.example.net' } },
    updatedAt: '2026-11-25T10:00:00.000Z',
    ...overrides,
  };
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('AppFilesAdapter (real folders)', () => {
  const dirs = new TempDirs();
  let appsDir: string;
  let files: AppFilesAdapter;

  beforeEach(() => {
    appsDir = join(dirs.make(), 'apps');
    files = new AppFilesAdapter(deviceConfig({ appsDir }));
  });
  afterEach(() => dirs.cleanup());

  describe('write', () => {
    it('creates APPS_DIR/<instance> with compose.yaml, variables.json and mosaic.json', async () => {
      await files.write(A, { compose: COMPOSE, variables: { ADMIN_EMAIL: 'me@example.net', LINK_TOKEN_DEFAULT: 'secret' }, metadata: metadata() });
      const dir = join(appsDir, A);
      expect(readdirSync(dir).sort()).toEqual(['compose.yaml', 'mosaic.json', 'variables.json']);
      expect(readFileSync(join(dir, 'compose.yaml'), 'utf8')).toBe(COMPOSE);
      expect(JSON.parse(readFileSync(join(dir, 'variables.json'), 'utf8'))).toEqual({ ADMIN_EMAIL: 'me@example.net', LINK_TOKEN_DEFAULT: 'secret' });
      expect(JSON.parse(readFileSync(join(dir, 'mosaic.json'), 'utf8'))).toEqual(metadata());
      expect(files.composeFile(A)).toBe(join(dir, 'compose.yaml'));
    });

    it('keeps the variables, link tokens included, owner-only (0600)', async () => {
      await files.write(A, { compose: COMPOSE, variables: { LINK_TOKEN_DEFAULT: 'secret' }, metadata: metadata() });
      expect(mode(join(appsDir, A, 'variables.json'))).toBe(0o600);
      expect(mode(join(appsDir, A, 'compose.yaml'))).toBe(0o640);
      expect(mode(join(appsDir, A, 'mosaic.json'))).toBe(0o640);
      expect(mode(join(appsDir, A)) & 0o007).toBe(0);
    });

    it('sets the modes exactly, whatever the umask', async () => {
      const previous = process.umask(0o077);
      try {
        await files.write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
      } finally {
        process.umask(previous);
      }
      expect(mode(join(appsDir, A, 'compose.yaml'))).toBe(0o640);
      expect(mode(join(appsDir, A, 'mosaic.json'))).toBe(0o640);
      expect(mode(join(appsDir, A, 'variables.json'))).toBe(0o600);
    });

    it('makes an existing variables file owner-only again when it rewrites it', async () => {
      await files.write(A, { compose: COMPOSE, variables: { A: '1' }, metadata: metadata() });
      const path = join(appsDir, A, 'variables.json');
      chmodSync(path, 0o644);
      await files.write(A, { compose: COMPOSE, variables: { A: '2' }, metadata: metadata() });
      expect(mode(path)).toBe(0o600);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ A: '2' });
    });

    it('replaces the files whole and leaves no temporary file behind', async () => {
      await files.write(A, { compose: COMPOSE, variables: { A: '1' }, metadata: metadata() });
      await files.write(A, { compose: 'services: {}\n', variables: {}, metadata: metadata({ desired: 'stopped' }) });
      expect(readdirSync(join(appsDir, A)).sort()).toEqual(['compose.yaml', 'mosaic.json', 'variables.json']);
      expect(readFileSync(join(appsDir, A, 'compose.yaml'), 'utf8')).toBe('services: {}\n');
      await expect(files.readMetadata(A)).resolves.toMatchObject({ desired: 'stopped' });
    });

    it('does not write through a symlink planted where its temporary file goes', async () => {
      const victim = join(dirs.make(), 'cron-job');
      writeFileSync(victim, 'untouched', { mode: 0o644 });
      mkdirSync(join(appsDir, A), { recursive: true });
      for (const name of ['compose.yaml', 'variables.json', 'mosaic.json']) symlinkSync(victim, join(appsDir, A, `${name}.${process.pid}.tmp`));
      await files.write(A, { compose: COMPOSE, variables: { LINK_TOKEN_DEFAULT: 'secret' }, metadata: metadata() });
      expect(readFileSync(victim, 'utf8')).toBe('untouched');
      expect(mode(victim)).toBe(0o644);
      expect(lstatSync(join(appsDir, A, 'compose.yaml')).isFile()).toBe(true);
      expect(readFileSync(join(appsDir, A, 'compose.yaml'), 'utf8')).toBe(COMPOSE);
      expect(readdirSync(join(appsDir, A)).sort()).toEqual(['compose.yaml', 'mosaic.json', 'variables.json']);
    });

    it('writes nothing for an id that is not an instance', async () => {
      await expect(files.write('../escape', { compose: COMPOSE, variables: {}, metadata: metadata() })).rejects.toThrow('not an instance id: ../escape');
      expect(existsSync(appsDir)).toBe(false);
    });
  });

  describe('readMetadata', () => {
    function put(instance: string, content: string): void {
      mkdirSync(join(appsDir, instance), { recursive: true });
      writeFileSync(join(appsDir, instance, 'mosaic.json'), content);
    }

    it('reads back what write wrote', async () => {
      await files.write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
      await expect(files.readMetadata(A)).resolves.toEqual(metadata());
      await expect(files.exists(A)).resolves.toBe(true);
    });

    it.each([
      ['corrupt JSON', '{"instance": "x", "application": {'],
      ['an empty file', ''],
      ['JSON that is not an object', '"wikijs"'],
      ['null', 'null'],
      ['an invalid application', JSON.stringify({ application: { appstore: 'x', name: 'Not Valid!', version: '1' } })],
      ['no application', JSON.stringify({ desired: 'running' })],
    ])('answers undefined for %s', async (_label, content) => {
      put(A, content);
      await expect(files.readMetadata(A)).resolves.toBeUndefined();
      await expect(files.exists(A)).resolves.toBe(false);
    });

    it('answers undefined for an instance it does not have', async () => {
      await expect(files.readMetadata(B)).resolves.toBeUndefined();
    });

    it('fills what an older file lacks, and trusts the folder name over the file', async () => {
      put(A, JSON.stringify({ instance: B, application: metadata().application, desired: 'sideways', updatedAt: 'x' }));
      await expect(files.readMetadata(A)).resolves.toEqual({
        instance: A,
        application: metadata().application,
        desired: 'running',
        commands: {},
        links: {},
        updatedAt: 'x',
      });
    });
  });

  describe('readVariables', () => {
    it('reads back the variables, and answers {} when there are none', async () => {
      await expect(files.readVariables(A)).resolves.toEqual({});
      await files.write(A, { compose: COMPOSE, variables: { ADMIN_EMAIL: 'me@example.net' }, metadata: metadata() });
      await expect(files.readVariables(A)).resolves.toEqual({ ADMIN_EMAIL: 'me@example.net' });
    });
  });

  describe('dir', () => {
    it('is APPS_DIR/<instance>', () => {
      expect(files.dir(A)).toBe(join(appsDir, A));
    });

    it.each([
      '../x',
      '..',
      '.',
      '',
      `${A}/..`,
      `../${A}`,
      `${A}/../../etc`,
      '/etc',
      A.toUpperCase(),
      `${A} `,
      `${A}\n`,
      'mosaic-3f1c2a4e',
    ])('refuses %p', (instance) => {
      expect(() => files.dir(instance)).toThrow(`not an instance id: ${instance}`);
      expect(() => files.composeFile(instance)).toThrow('not an instance id');
    });

    it('refuses a path trick in every operation that takes an instance', async () => {
      await expect(files.readMetadata('../x')).rejects.toThrow('not an instance id');
      await expect(files.readVariables('../x')).rejects.toThrow('not an instance id');
      await expect(files.remove('..')).rejects.toThrow('not an instance id');
      await expect(files.writeMetadata(metadata({ instance: '../x' }))).rejects.toThrow('not an instance id');
    });
  });

  describe('instances and remove', () => {
    it('lists only instance folders, sorted', async () => {
      await expect(files.instances()).resolves.toEqual([]);
      for (const name of [B, A, 'lost+found', A.toUpperCase(), `${A}.bak`]) mkdirSync(join(appsDir, name), { recursive: true });
      await expect(files.instances()).resolves.toEqual([A, B].sort());
    });

    it('removes an instance’s folder and nothing else', async () => {
      await files.write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
      await files.write(B, { compose: COMPOSE, variables: {}, metadata: metadata({ instance: B }) });
      await files.remove(A);
      expect(readdirSync(appsDir)).toEqual([B]);
      await files.remove(A);
      expect(readdirSync(appsDir)).toEqual([B]);
    });
  });

  describe('realPath', () => {
    let root: string;
    let outside: string;

    beforeEach(() => {
      root = realpathSync(dirs.make());
      outside = realpathSync(dirs.make());
      mkdirSync(join(root, 'data', 'sub'), { recursive: true });
      symlinkSync(outside, join(root, 'data', 'link'));
      symlinkSync('/var/run', join(root, 'data', 'run'));
    });

    it('resolves a symlinked parent of a path that does not exist yet', async () => {
      await expect(files.realPath(join(root, 'data', 'link', 'new', 'file'))).resolves.toBe(join(outside, 'new', 'file'));
    });

    it('resolves a symlink itself', async () => {
      await expect(files.realPath(join(root, 'data', 'link'))).resolves.toBe(outside);
      await expect(files.realPath(join(root, 'data', 'run', 'docker.sock'))).resolves.toMatch(/^\/(var\/)?run\/docker\.sock$/);
    });

    it('resolves `..` after a symlink as the kernel does', async () => {
      // A raw string: path.join would fold `link/..` away before the kernel sees it.
      await expect(files.realPath(`${root}/data/link/../x`)).resolves.toBe(join(outside, '..', 'x'));
    });

    it('leaves a path without symlinks as it is', async () => {
      await expect(files.realPath(join(root, 'data', 'sub'))).resolves.toBe(join(root, 'data', 'sub'));
      await expect(files.realPath(join(root, 'data', 'sub', 'missing'))).resolves.toBe(join(root, 'data', 'sub', 'missing'));
    });

    it('answers the path itself when nothing of it exists', async () => {
      await expect(files.realPath('/nonexistent-mosaic-root/a/b')).resolves.toBe('/nonexistent-mosaic-root/a/b');
    });
  });
});
