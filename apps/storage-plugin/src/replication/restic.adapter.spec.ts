import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pluginConfig, pluginRoot } from '../../../../test/support/storage-plugin';
import { ResticAdapter, ResticError, classifyResticError } from './restic.adapter';

/**
 * A stand-in restic: a node script that records its argv, environment and working directory, and
 * answers like restic would (or fails with the stderr a test gives it through its argv).
 */
const FAKE_RESTIC = `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.writeFileSync(__filename + '.out', JSON.stringify({ args, env: process.env, cwd: process.cwd() }));
const failure = fs.existsSync(__filename + '.fail') ? fs.readFileSync(__filename + '.fail', 'utf8') : '';
if (failure) { process.stderr.write(failure); process.exit(1); }
if (args[0] === 'backup') process.stdout.write('{"message_type":"status","percent_done":0}\\n{"message_type":"summary","snapshot_id":"0123abcd"}\\n');
if (args[0] === 'snapshots') process.stdout.write('[{"id":"0123abcd","time":"2026-11-25T10:00:00.5Z","tags":["mosaic","writer:x"],"paths":["/d"]}]\\n');
`;

describe('ResticAdapter', () => {
  const root = pluginRoot('restic');
  const binary = join(root.path, 'fake-restic');
  const adapter = new ResticAdapter(
    pluginConfig(root.path, { RESTIC_BINARY: binary, AWS_ACCESS_KEY_ID: 'AKIA-TEST', DEVICE_TOKEN: 'must-not-pass' } as Record<
      string,
      string
    >),
  );
  const repo = { url: 'rest:https://user:hunter2@backup.example.net/vol1', password: 'derived-password-0123456789abcdef' };
  const recorded = () => JSON.parse(readFileSync(`${binary}.out`, 'utf8'));

  beforeAll(() => {
    writeFileSync(binary, FAKE_RESTIC);
    chmodSync(binary, 0o755);
  });

  afterEach(() => writeFileSync(`${binary}.fail`, ''));
  afterAll(() => root.remove());

  it('passes the password and the repository in the environment only, never in argv', async () => {
    await expect(adapter.backup(repo, root.path, ['mosaic', 'writer:dev-1'], 'mosaic')).resolves.toBe('0123abcd');
    const { args, env, cwd } = recorded();
    // The folder itself, from its parent: an empty volume is still a valid snapshot.
    expect(args).toEqual(['backup', '--json', '--host', 'mosaic', '--tag', 'mosaic', '--tag', 'writer:dev-1', basename(root.path)]);
    expect(cwd).toBe(dirname(root.path));
    expect(JSON.stringify(args)).not.toContain(repo.password);
    expect(env.RESTIC_PASSWORD).toBe(repo.password);
    expect(env.RESTIC_REPOSITORY).toBe(repo.url);
  });

  it("passes restic's own backend variables through and nothing else of the plugin's environment", async () => {
    await adapter.snapshots(repo);
    const { args, env } = recorded();
    expect(args).toEqual(['snapshots', '--json']);
    expect(env.AWS_ACCESS_KEY_ID).toBe('AKIA-TEST');
    expect(env.DEVICE_TOKEN).toBeUndefined();
    expect(env.RESTIC_CACHE_DIR).toBe(join(root.path, 'data', 'restic-cache'));
  });

  it('gives restic 0.14 the flags for RESTIC_CACERT and RESTIC_TLS_CLIENT_CERT, which it does not read itself', async () => {
    const tls = new ResticAdapter(
      pluginConfig(root.path, { RESTIC_BINARY: binary, RESTIC_CACERT: '/certs/ca.pem', RESTIC_TLS_CLIENT_CERT: '/certs/client.pem' }),
    );
    await tls.init(repo);
    expect(recorded().args).toEqual(['--cacert', '/certs/ca.pem', '--tls-client-cert', '/certs/client.pem', 'init', '--quiet']);
    expect(recorded().env.RESTIC_CACERT).toBe('/certs/ca.pem');
  });

  it('parses snapshots', async () => {
    expect(await adapter.snapshots(repo, ['0123abcd'])).toEqual([
      { id: '0123abcd', time: '2026-11-25T10:00:00.5Z', tags: ['mosaic', 'writer:x'] },
    ]);
    expect(recorded().args).toEqual(['snapshots', '--json', '0123abcd']);
  });

  it('prunes with the retention policy over the whole repository', async () => {
    await adapter.forget(repo, { keepLast: 24, keepDaily: 7, tag: 'mosaic' });
    expect(recorded().args).toEqual([
      'forget',
      '--quiet',
      '--prune',
      '--tag',
      'mosaic',
      '--group-by',
      '',
      '--keep-last',
      '24',
      '--keep-daily',
      '7',
    ]);
  });

  it("turns a failure into a ResticError of a kind, with restic's words and without URL credentials", async () => {
    writeFileSync(
      `${binary}.fail`,
      'Fatal: unable to open config file: Head "https://user:hunter2@backup.example.net/vol1/config": 404 Not Found\nIs there a repository at the following location?\n',
    );
    const failure = await adapter.snapshots(repo).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ResticError);
    expect(failure).toMatchObject({ kind: 'missing-repository' });
    expect((failure as Error).message).toMatch(/^restic snapshots: Fatal: unable to open config file/);
    expect((failure as Error).message).not.toContain('hunter2');
  });

  it('says so when restic cannot be started', async () => {
    const missing = new ResticAdapter(pluginConfig(root.path, { RESTIC_BINARY: join(root.path, 'nope') }));
    await expect(missing.init(repo)).rejects.toThrow(/cannot run .*nope/);
  });
});

describe('classifyResticError', () => {
  it.each([
    [
      'Fatal: unable to open config file: stat /r/vol1/config: no such file or directory\nIs there a repository at the following location?',
      'missing-repository',
    ],
    ['Fatal: unable to open config file: <config/> does not exist', 'missing-repository'],
    [
      'Fatal: unable to open config file: client.Head: Head "http://127.0.0.1:1/x/config": dial tcp 127.0.0.1:1: connect: connection refused\nIs there a repository at the following location?',
      'other',
    ],
    ['Fatal: wrong password or no key found', 'wrong-password'],
    ['unable to create lock in backend: repository is already locked exclusively by PID 11', 'locked'],
    ['ignoring error for /f1: write /t/f1: no space left on device\nFatal: There were 1 errors', 'no-space'],
  ])('%s → %s', (stderr, kind) => {
    expect(classifyResticError(stderr)).toBe(kind);
  });
});
