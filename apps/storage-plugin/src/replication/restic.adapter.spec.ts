import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pluginConfig, pluginRoot } from '../../../../test/support/storage-plugin';
import { LOCK_WAIT, ResticAdapter, ResticError, classifyResticError } from './restic.adapter';

/**
 * A stand-in restic: a node script that records its argv, environment and working directory, and
 * answers like restic would (or fails with the stderr a test gives it through its argv).
 */
const FAKE_RESTIC = `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.writeFileSync(__filename + '.out', JSON.stringify({ args, env: process.env, cwd: process.cwd() }));
if (args[0] === 'version') { process.stdout.write('restic 0.18.0 compiled with go1.24.4 on linux/amd64\\n'); return; }
if (fs.existsSync(__filename + '.retry') && fs.readFileSync(__filename + '.retry', 'utf8')) {
  // An unreachable store: restic ≥ 0.17 retries for minutes and says so on stderr.
  fs.writeFileSync(__filename + '.pid', String(process.pid));
  const say = () => process.stderr.write('Stat(<config/>) returned error, retrying after 735.1ms: Head "http://127.0.0.1:1/x/config": dial tcp 127.0.0.1:1: connect: connection refused\\n');
  say();
  setInterval(say, 100);
  return;
}
const failure = fs.existsSync(__filename + '.fail') ? fs.readFileSync(__filename + '.fail', 'utf8') : '';
if (failure) { process.stderr.write(failure); process.exit(1); }
if (args.includes('backup')) process.stdout.write('{"message_type":"status","percent_done":0}\\n{"message_type":"summary","snapshot_id":"0123abcd","data_added":4096}\\n');
const command = args.find((a) => !a.startsWith('-') && !/^[0-9]+s$/.test(a));
if (command === 'restore' && args.includes('--json')) process.stdout.write('{"message_type":"status","percent_done":0.25,"total_bytes":8,"bytes_restored":2}\\n' +
  '{"message_type":"status","percent_done":0.75,"total_bytes":8,"bytes_restored":6}\\n{"message_type":"summary","total_files":1,"files_restored":1,"total_bytes":8,"bytes_restored":8}\\n');
if (command === 'snapshots') process.stdout.write('[{"id":"0123abcd","time":"2026-11-25T10:00:00.5Z","tags":["mosaic","writer:x"],"paths":["/d"]},' +
  '{"id":"4567cdef","time":"2026-11-25T11:00:00Z","tags":["mosaic","writer:x"],"paths":["/d"],"summary":{"total_bytes_processed":1234}}]\\n');
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

  afterEach(() => {
    writeFileSync(`${binary}.fail`, '');
    writeFileSync(`${binary}.retry`, '');
  });
  afterAll(() => root.remove());

  it('passes the password and the repository in the environment only, never in argv', async () => {
    const time = new Date('2026-11-25T10:00:00.750Z');
    await expect(adapter.backup(repo, root.path, ['mosaic', 'writer:dev-1'], 'mosaic', time)).resolves.toEqual({ snapshotId: '0123abcd', dataAdded: 4096 });
    const { args, env, cwd } = recorded();
    // The folder itself, from its parent: an empty volume is still a valid snapshot. The time is the plugin's, in UTC.
    expect(args).toEqual([
      '--retry-lock',
      LOCK_WAIT,
      'backup',
      '--json',
      '--host',
      'mosaic',
      '--time',
      '2026-11-25 10:00:00',
      '--tag',
      'mosaic',
      '--tag',
      'writer:dev-1',
      basename(root.path),
    ]);
    expect(env.TZ).toBe('UTC');
    expect(cwd).toBe(dirname(root.path));
    expect(JSON.stringify(args)).not.toContain(repo.password);
    expect(env.RESTIC_PASSWORD).toBe(repo.password);
    expect(env.RESTIC_REPOSITORY).toBe(repo.url);
  });

  it("passes restic's own backend variables through and nothing else of the plugin's environment", async () => {
    await adapter.snapshots(repo);
    const { args, env } = recorded();
    expect(args).toEqual(['--retry-lock', LOCK_WAIT, 'snapshots', '--json']);
    expect(env.AWS_ACCESS_KEY_ID).toBe('AKIA-TEST');
    expect(env.DEVICE_TOKEN).toBeUndefined();
    expect(env.RESTIC_CACHE_DIR).toBe(join(root.path, 'data', 'restic-cache'));
  });

  it('leaves RESTIC_CACERT and RESTIC_TLS_CLIENT_CERT to restic, which reads them itself', async () => {
    const tls = new ResticAdapter(
      pluginConfig(root.path, { RESTIC_BINARY: binary, RESTIC_CACERT: '/certs/ca.pem', RESTIC_TLS_CLIENT_CERT: '/certs/client.pem' }),
    );
    await tls.init(repo);
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, 'init', '--quiet']);
    expect(recorded().env.RESTIC_CACERT).toBe('/certs/ca.pem');
    expect(recorded().env.RESTIC_TLS_CLIENT_CERT).toBe('/certs/client.pem');
  });

  it("has restic try the replica's cheap key first when it is known (--key-hint), and asks which key opened it without a lock", async () => {
    const hint = 'c'.repeat(64);
    await adapter.init({ ...repo, keyHint: hint });
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, '--key-hint', hint, 'init', '--quiet']);
    // The fake prints no key list: no key is named current.
    await expect(adapter.openingKey({ ...repo, keyHint: hint })).rejects.toThrow(/named no current key/);
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, '--key-hint', hint, 'key', 'list', '--no-lock', '--json']);
  });

  it('parses snapshots, with the size from their summary when restic recorded one', async () => {
    expect(await adapter.snapshots(repo, ['0123abcd', '4567cdef'])).toEqual([
      { id: '0123abcd', time: '2026-11-25T10:00:00.5Z', tags: ['mosaic', 'writer:x'] },
      { id: '4567cdef', time: '2026-11-25T11:00:00Z', tags: ['mosaic', 'writer:x'], totalBytes: 1234 },
    ]);
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, 'snapshots', '--json', '0123abcd', '4567cdef']);
  });

  it("restores quietly, or with restic's own progress (its --json status lines) when asked for progress", async () => {
    await adapter.restore(repo, '0123abcd', '/target');
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, 'restore', '--quiet', '--target', '/target', '0123abcd']);
    const heard: number[] = [];
    await adapter.restore(repo, '0123abcd', '/target', { incremental: true, onProgress: (fraction) => heard.push(fraction) });
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, 'restore', '--json', '--overwrite', 'if-changed', '--delete', '--target', '/target', '0123abcd']);
    expect(heard).toEqual([0.25, 0.75]);
    await adapter.restore(repo, '0123abcd', '/target', { unlocked: true });
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, 'restore', '--no-lock', '--quiet', '--target', '/target', '0123abcd']);
  });

  it('forgets the snapshots named, pruning their data only when asked', async () => {
    await adapter.forgetSnapshots(repo, ['0123abcd', '4567cdef'], { prune: true });
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, 'forget', '--quiet', '--prune', '0123abcd', '4567cdef']);
    await adapter.forgetSnapshots(repo, ['0123abcd'], { prune: false });
    expect(recorded().args).toEqual(['--retry-lock', LOCK_WAIT, 'forget', '--quiet', '0123abcd']);
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

  it('ends a run that keeps retrying an unreachable store after REPLICA_RETRY_WINDOW_S, and says why', async () => {
    const impatient = new ResticAdapter(pluginConfig(root.path, { RESTIC_BINARY: binary, REPLICA_RETRY_WINDOW_S: '1' }));
    writeFileSync(`${binary}.retry`, 'yes');
    const started = Date.now();
    const failure = await impatient.snapshots(repo).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ResticError);
    expect(failure).toMatchObject({ kind: 'unreachable' });
    expect((failure as Error).message).toMatch(/did not answer for 1 s: .*connection refused/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    // The child is gone, not left retrying in the background.
    expect(() => process.kill(Number(readFileSync(`${binary}.pid`, 'utf8')), 0)).toThrow(/ESRCH/);
  });

  it("reads restic's version", async () => {
    await expect(adapter.version()).resolves.toBe('0.18.0');
  });

  it('says so when restic cannot be started', async () => {
    const missing = new ResticAdapter(pluginConfig(root.path, { RESTIC_BINARY: join(root.path, 'nope') }));
    await expect(missing.init(repo)).rejects.toThrow(/cannot run .*nope/);
    await expect(missing.version()).rejects.toThrow(/cannot run .*nope version/);
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
    ['Fatal: LoadRaw(<index/2cc41c9ef8>): invalid data returned', 'torn-read'],
  ])('%s → %s', (stderr, kind) => {
    expect(classifyResticError(stderr)).toBe(kind);
  });
});
