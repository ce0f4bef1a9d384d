import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempRoot } from '../support/device-harness';
import { HAPROXY_CONFIG } from '../support/haproxy';

const run = promisify(execFile);
const DEPLOYMENT = join(__dirname, '../../deploy/hive-cluster');

/**
 * deploy/hive-cluster/compose.yaml as Compose reads it (images cannot be pulled here: `docker
 * compose config` checks the file and resolves it), and its haproxy.cfg as HAProxy reads it with
 * the environment compose gives it: the same file the cluster e2e runs.
 */
describe('deploy/hive-cluster', () => {
  const root = tempRoot('hive-cluster-deployment');
  let config: Record<string, any>;

  beforeAll(async () => {
    const secrets: Record<string, string> = {};
    for (const name of ['HIVE_ADMIN_TOKEN_FILE', 'HIVE_DATABASE_URL_FILE', 'POSTGRES_PASSWORD_FILE']) {
      secrets[name] = join(root.path, name.toLowerCase());
      writeFileSync(secrets[name], 'not-a-real-secret\n', { mode: 0o600 });
    }
    const { stdout } = await run(
      'docker',
      ['compose', '--project-directory', DEPLOYMENT, '-f', join(DEPLOYMENT, 'compose.yaml'), 'config', '--format', 'json'],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...secrets },
        timeout: 30_000,
      },
    );
    config = JSON.parse(stdout);
  }, 60_000);

  afterAll(() => root.remove());

  it('runs PostgreSQL, two Hive processes on it and HAProxy in front', () => {
    expect(Object.keys(config.services).sort()).toEqual(['haproxy', 'hive-1', 'hive-2', 'postgres']);
    for (const name of ['hive-1', 'hive-2']) {
      const hive = config.services[name];
      expect(hive.image).toBe('mosaic/hive:latest');
      expect(hive.depends_on.postgres.condition).toBe('service_healthy');
      // The database URL holds a password: a file, never the environment.
      expect(hive.environment.HIVE_DATABASE_URL_FILE).toBe('/run/secrets/hive_database_url');
      expect(hive.environment.HIVE_ADMIN_TOKEN_FILE).toBe('/run/secrets/hive_admin_token');
      expect(hive.environment).not.toHaveProperty('HIVE_DATABASE_URL');
      expect(hive.environment).not.toHaveProperty('HIVE_ADMIN_TOKEN');
      expect(hive.secrets.map((s: { source: string }) => s.source).sort()).toEqual(['hive_admin_token', 'hive_database_url']);
      expect(hive.ports).toBeUndefined();
    }
    expect(config.services.postgres.volumes).toEqual([
      expect.objectContaining({ type: 'volume', source: 'postgres-data', target: '/var/lib/postgresql/data' }),
    ]);
  });

  it('hands HAProxy the haproxy.cfg beside it, its backends from the environment, published on loopback by default', () => {
    const haproxy = config.services.haproxy;
    expect(haproxy.volumes).toEqual([
      expect.objectContaining({ type: 'bind', source: HAPROXY_CONFIG, target: '/usr/local/etc/haproxy/haproxy.cfg', read_only: true }),
    ]);
    expect(haproxy.environment).toEqual({ HIVE_LB_BIND: ':8080', HIVE_1: 'hive-1:8080', HIVE_2: 'hive-2:8080' });
    expect(haproxy.ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', published: '8080', target: 8080 })]);
  });

  it("haproxy.cfg is valid for HAProxy with compose's environment (the names resolved once they exist)", async () => {
    const { stdout, stderr } = await run('/usr/sbin/haproxy', ['-c', '-f', HAPROXY_CONFIG], {
      env: { PATH: process.env.PATH, ...config.services.haproxy.environment },
      timeout: 10_000,
    });
    expect(stdout + stderr).toContain('Configuration file is valid');
    expect(stdout + stderr).not.toMatch(/ALERT/);
  });
});
