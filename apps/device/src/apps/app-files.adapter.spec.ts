import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempDirs, deviceConfig } from '../../../../test/support/device-fixtures';
import { AppFilesAdapter, AppMetadata, LayoutError } from './app-files.adapter';

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

  /** What a start does once the policy accepted the files: stage, then commit. */
  async function write(instance: string, app: { compose: string; variables: Record<string, string>; metadata: AppMetadata }): Promise<void> {
    await files.commit(await files.stage(instance, app), app.metadata);
  }

  describe('stage and commit', () => {
    it('creates APPS_DIR/<instance> with compose.yaml, variables.json and mosaic.json', async () => {
      await write(A, { compose: COMPOSE, variables: { ADMIN_EMAIL: 'me@example.net', LINK_TOKEN_DEFAULT: 'secret' }, metadata: metadata() });
      const dir = join(appsDir, A);
      expect(readdirSync(dir).sort()).toEqual(['compose.yaml', 'mosaic.json', 'variables.json']);
      expect(readFileSync(join(dir, 'compose.yaml'), 'utf8')).toBe(COMPOSE);
      expect(JSON.parse(readFileSync(join(dir, 'variables.json'), 'utf8'))).toEqual({ ADMIN_EMAIL: 'me@example.net', LINK_TOKEN_DEFAULT: 'secret' });
      expect(JSON.parse(readFileSync(join(dir, 'mosaic.json'), 'utf8'))).toEqual(metadata());
      expect(files.composeFile(A)).toBe(join(dir, 'compose.yaml'));
    });

    it('keeps the variables, link tokens included, owner-only (0600)', async () => {
      await write(A, { compose: COMPOSE, variables: { LINK_TOKEN_DEFAULT: 'secret' }, metadata: metadata() });
      expect(mode(join(appsDir, A, 'variables.json'))).toBe(0o600);
      expect(mode(join(appsDir, A, 'compose.yaml'))).toBe(0o640);
      expect(mode(join(appsDir, A, 'mosaic.json'))).toBe(0o640);
      expect(mode(join(appsDir, A)) & 0o007).toBe(0);
    });

    it('sets the modes exactly, whatever the umask', async () => {
      const previous = process.umask(0o077);
      try {
        await write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
      } finally {
        process.umask(previous);
      }
      expect(mode(join(appsDir, A, 'compose.yaml'))).toBe(0o640);
      expect(mode(join(appsDir, A, 'mosaic.json'))).toBe(0o640);
      expect(mode(join(appsDir, A, 'variables.json'))).toBe(0o600);
    });

    it('makes an existing variables file owner-only again when it rewrites it', async () => {
      await write(A, { compose: COMPOSE, variables: { A: '1' }, metadata: metadata() });
      const path = join(appsDir, A, 'variables.json');
      chmodSync(path, 0o644);
      await write(A, { compose: COMPOSE, variables: { A: '2' }, metadata: metadata() });
      expect(mode(path)).toBe(0o600);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ A: '2' });
    });

    it('replaces the files whole and leaves no temporary file behind', async () => {
      await write(A, { compose: COMPOSE, variables: { A: '1' }, metadata: metadata() });
      await write(A, { compose: 'services: {}\n', variables: {}, metadata: metadata({ desired: 'stopped' }) });
      expect(readdirSync(join(appsDir, A)).sort()).toEqual(['compose.yaml', 'mosaic.json', 'variables.json']);
      expect(readFileSync(join(appsDir, A, 'compose.yaml'), 'utf8')).toBe('services: {}\n');
      await expect(files.readMetadata(A)).resolves.toMatchObject({ desired: 'stopped' });
    });

    it('does not write through a symlink planted where its temporary file goes', async () => {
      const victim = join(dirs.make(), 'cron-job');
      writeFileSync(victim, 'untouched', { mode: 0o644 });
      mkdirSync(join(appsDir, A), { recursive: true });
      for (const name of ['compose.yaml', 'variables.json', 'mosaic.json']) symlinkSync(victim, join(appsDir, A, `${name}.${process.pid}.tmp`));
      await write(A, { compose: COMPOSE, variables: { LINK_TOKEN_DEFAULT: 'secret' }, metadata: metadata() });
      expect(readFileSync(victim, 'utf8')).toBe('untouched');
      expect(mode(victim)).toBe(0o644);
      for (const name of ['compose.yaml', 'variables.json', 'mosaic.json']) expect(lstatSync(join(appsDir, A, name)).isFile()).toBe(true);
      expect(readFileSync(join(appsDir, A, 'compose.yaml'), 'utf8')).toBe(COMPOSE);
    });

    it('writes nothing for an id that is not an instance', async () => {
      await expect(write('../escape', { compose: COMPOSE, variables: {}, metadata: metadata() })).rejects.toThrow('not an instance id: ../escape');
      expect(existsSync(appsDir)).toBe(false);
    });
  });

  describe('readMetadata', () => {
    function put(instance: string, content: string): void {
      mkdirSync(join(appsDir, instance), { recursive: true });
      writeFileSync(join(appsDir, instance, 'mosaic.json'), content);
    }

    it('reads back what write wrote', async () => {
      await write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
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
      await write(A, { compose: COMPOSE, variables: { ADMIN_EMAIL: 'me@example.net' }, metadata: metadata() });
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
      await write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
      await write(B, { compose: COMPOSE, variables: {}, metadata: metadata({ instance: B }) });
      await files.remove(A);
      expect(readdirSync(appsDir)).toEqual([B]);
      await files.remove(A);
      expect(readdirSync(appsDir)).toEqual([B]);
    });
  });

  describe('staging', () => {
    it('renders a start aside, leaving a known instance as it was until commit', async () => {
      await write(A, { compose: COMPOSE, variables: { A: '1' }, metadata: metadata() });
      const before = readdirSync(join(appsDir, A)).map((name) => readFileSync(join(appsDir, A, name), 'utf8'));
      const staged = await files.stage(A, { compose: 'services: {}\n', variables: { A: '2' } });
      expect(staged.dir.startsWith(join(appsDir, '.staged-'))).toBe(true);
      expect(readFileSync(staged.composeFile, 'utf8')).toBe('services: {}\n');
      expect(mode(join(staged.dir, 'variables.json'))).toBe(0o600);
      await expect(files.instances()).resolves.toEqual([A]);

      await files.discard(staged);
      expect(readdirSync(join(appsDir, A)).map((name) => readFileSync(join(appsDir, A, name), 'utf8'))).toEqual(before);
      expect(readdirSync(appsDir)).toEqual([A]);
    });

    it('keeps what else the instance folder holds when it commits', async () => {
      await write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
      mkdirSync(join(appsDir, A, 'data'));
      writeFileSync(join(appsDir, A, 'data', 'kept'), 'x');
      await write(A, { compose: 'services: {}\n', variables: {}, metadata: metadata() });
      expect(readFileSync(join(appsDir, A, 'data', 'kept'), 'utf8')).toBe('x');
      expect(readdirSync(appsDir)).toEqual([A]);
    });

    it('refuses to commit into an instance folder that is a symlink, and writes nothing there', async () => {
      const elsewhere = dirs.make();
      mkdirSync(appsDir, { recursive: true });
      symlinkSync(elsewhere, join(appsDir, A));
      const staged = await files.stage(A, { compose: COMPOSE, variables: {} });
      await expect(files.commit(staged, metadata())).rejects.toThrow(LayoutError);
      expect(readdirSync(elsewhere)).toEqual([]);
    });

    it('removes what stops cut short at boot, and nothing else', async () => {
      await write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
      await files.stage(B, { compose: COMPOSE, variables: {} });
      mkdirSync(join(appsDir, 'lost+found'));
      await files.onModuleInit();
      expect(readdirSync(appsDir).sort()).toEqual([A, 'lost+found'].sort());
    });
  });

  describe('layoutProblems (lstat, right before Compose runs)', () => {
    beforeEach(async () => {
      await write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
    });

    it('finds nothing wrong with what the device wrote', async () => {
      await expect(files.layoutProblems(A)).resolves.toEqual([]);
      await expect(files.layoutProblems(B)).resolves.toEqual([]);
    });

    it.each(['compose.yaml', 'variables.json', 'mosaic.json'])('finds %s replaced by a symlink', async (name) => {
      const copy = join(dirs.make(), name);
      writeFileSync(copy, readFileSync(join(appsDir, A, name)));
      rmSync(join(appsDir, A, name));
      symlinkSync(copy, join(appsDir, A, name));
      await expect(files.layoutProblems(A)).resolves.toEqual([{ path: join(appsDir, A, name), message: expect.stringContaining('is a symlink') }]);
    });

    it('finds the compose file replaced by a folder', async () => {
      rmSync(join(appsDir, A, 'compose.yaml'));
      mkdirSync(join(appsDir, A, 'compose.yaml'));
      await expect(files.layoutProblems(A)).resolves.toEqual([{ path: join(appsDir, A, 'compose.yaml'), message: expect.stringContaining('is a folder') }]);
    });

    it('finds the instance folder replaced by a symlink', async () => {
      const moved = join(dirs.make(), 'moved');
      renameSync(join(appsDir, A), moved);
      symlinkSync(moved, join(appsDir, A));
      await expect(files.layoutProblems(A)).resolves.toEqual([{ path: join(appsDir, A), message: expect.stringContaining('is a symlink') }]);
    });

    it('finds a .env that Compose would read', async () => {
      writeFileSync(join(appsDir, A, '.env'), 'COMPOSE_PROJECT_NAME=other\n');
      await expect(files.layoutProblems(A)).resolves.toEqual([{ path: join(appsDir, A, '.env'), message: expect.stringContaining('Compose would read it') }]);
    });

    it('accepts APPS_DIR itself behind a symlink (the operator’s choice)', async () => {
      const link = join(dirs.make(), 'apps-link');
      symlinkSync(appsDir, link);
      const throughLink = new AppFilesAdapter(deviceConfig({ appsDir: link }));
      await expect(throughLink.layoutProblems(A)).resolves.toEqual([]);
    });
  });

  describe('readCompose', () => {
    it('reads back the template as it was sent', async () => {
      await write(A, { compose: COMPOSE, variables: {}, metadata: metadata() });
      await expect(files.readCompose(A)).resolves.toBe(COMPOSE);
    });
  });
});
