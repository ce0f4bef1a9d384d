// Test support: the deployment of deploy/hive-cluster in processes: a throwaway PostgreSQL cluster
// (test/support/postgres.ts), Hive processes on one database of it, and HAProxy with the
// deployment's own haproxy.cfg in front of the first two. Every wait has a deadline.
import { Client } from 'pg';
import { derivePassphraseVerifier } from '@mosaic/protocol';
import { HiveApiClient } from '../../apps/hive/src/testing/hive-api-client';
import { TEST_ADMIN_TOKEN } from '../../apps/hive/src/testing/test-hive';
import { E2E_PASSPHRASE } from './e2e-hive';
import { eventually } from './eventually';
import { HaproxyProcess } from './haproxy';
import { HiveProcess } from './hive-process';
import { PostgresCluster, startPostgresCluster } from './postgres';

export const CLUSTER_DATABASE = 'hive';
/** How long HAProxy may take to see a process come up or go (inter 2s, rise/fall 2, in haproxy.cfg) plus slack. */
export const HEALTH_CHANGE_MS = 20_000;

export interface HiveCluster {
  postgres: PostgresCluster;
  databaseUrl: string;
  hives: HiveProcess[];
  haproxy: HaproxyProcess;
  /** REST through HAProxy, with the admin token. */
  api: HiveApiClient;
  /** Starts one more Hive process on the same database (not behind HAProxy). */
  addHive(env?: Record<string, string>): Promise<HiveProcess>;
  /** Resolves once HAProxy routes to both processes again (its log says both are UP) and /api/health answers 200 through it. */
  healthyBehindProxy(): Promise<void>;
  stop(): Promise<void>;
}

async function createDatabase(postgres: PostgresCluster, name: string): Promise<void> {
  const admin = new Client({ connectionString: postgres.url('postgres'), connectionTimeoutMillis: 10_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
}

/**
 * Two Hive processes (started one after the other, so the migrations are not what a test waits
 * on twice) behind HAProxy, on a PostgreSQL of their own; the account's passphrase set as a user
 * would (E2E_PASSPHRASE).
 */
export async function startHiveCluster(options: { env?: Record<string, string> } = {}): Promise<HiveCluster> {
  const postgres = await startPostgresCluster();
  const hives: HiveProcess[] = [];
  let haproxy: HaproxyProcess | undefined;
  const stop = async () => {
    await haproxy?.stop();
    await Promise.all(hives.map((hive) => hive.stop()));
    await postgres.stop();
  };
  try {
    await createDatabase(postgres, CLUSTER_DATABASE);
    const databaseUrl = postgres.url(CLUSTER_DATABASE);
    const addHive = async (env: Record<string, string> = {}) => {
      const hive = await HiveProcess.start(databaseUrl, { ...options.env, ...env });
      hives.push(hive);
      return hive;
    };
    await addHive();
    await addHive();
    haproxy = await HaproxyProcess.start([hives[0].address, hives[1].address]);
    const api = new HiveApiClient(haproxy.url, TEST_ADMIN_TOKEN);
    const healthyBehindProxy = async () => {
      const states = await eventually(
        'HAProxy routing to both processes',
        async () => haproxy!.serverStates(),
        (st) => st.hive1 === 'UP' && st.hive2 === 'UP',
        HEALTH_CHANGE_MS,
      );
      const health = await fetch(`${api.url}/api/health`);
      if (health.status !== 200)
        throw new Error(`/api/health through HAProxy answered ${health.status} with both servers ${JSON.stringify(states)}`);
    };
    await healthyBehindProxy();
    const account = await api.get('/api/account');
    const verifier = await derivePassphraseVerifier(E2E_PASSPHRASE, account.body.passphrase.salt);
    const set = await api.put('/api/account/passphrase', { verifier });
    if (set.status !== 200) throw new Error(`setting the passphrase failed: ${set.status} ${JSON.stringify(set.body)}`);
    return { postgres, databaseUrl, hives, haproxy, api, addHive, healthyBehindProxy, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
