import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { version as CURRENT } from '../../package.json';
import type { TestHive } from '../../apps/hive/src/testing/test-hive';
import { ComposeDeployment } from '../support/compose-deployment';
import { installCatalogApp, startE2eHive } from '../support/e2e-hive';
import { EngineProbe } from '../support/engine';
import { eventually } from '../support/eventually';
import { IsolatedEngine } from '../support/isolated-engine';
import { LoopbackRegistry } from '../support/loopback-registry';

// Three image builds of the whole code, pushes and pulls, two upgrades with health checks.
jest.setTimeout(45 * 60_000);

const run = promisify(execFile);
const REPO = join(__dirname, '../..');
const [major, minor] = CURRENT.split(/[.-]/).map(Number);
/** A: the code as it is; B: the same code reporting a higher version; C: higher still, never healthy. */
const A = CURRENT;
const B = `${major}.${minor + 1}.0`;
const C = `${major}.${minor + 2}.0`;
/** What the test gives the new version to turn healthy and be heard by the Hive (UPGRADE_TIMEOUT_S). */
const UPGRADE_TIMEOUT_S = 180;
/** compose.yaml's project name, which names its volumes. */
const PROJECT = 'mosaic';

interface Visit {
  at: number;
  n?: number;
  error?: string;
}

/**
 * The notes app's visit counter, asked every 100 ms: each visit is served by the app and writes
 * the new count to the app's volume, so the answers show whether the app served and whether a
 * write was lost (the counts must run 1, 2, 3… with no gap).
 */
class VisitProbe {
  readonly visits: Visit[] = [];
  private stopped = false;
  private loop?: Promise<void>;

  constructor(private readonly port: number) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const at = Date.now();
        try {
          const response = await fetch(`http://127.0.0.1:${this.port}/cgi-bin/count`, { signal: AbortSignal.timeout(2000) });
          const body = await response.text();
          if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
          this.visits.push({ at, n: Number(body.trim()) });
        } catch (err) {
          this.visits.push({ at, error: String(err) });
        }
        // A sampling pace, not a wait for something: the probe asks as a steady client would.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** What the app did between two instants: visits served and failed, the longest time without an answer. */
  between(from: number, to: number): { served: number; failed: number; longestGapMs: number; errors: string[] } {
    const visits = this.visits.filter((v) => v.at >= from && v.at <= to);
    const served = visits.filter((v) => v.n !== undefined).map((v) => v.at);
    let longestGapMs = 0;
    for (let i = 1; i < served.length; i++) longestGapMs = Math.max(longestGapMs, served[i] - served[i - 1]);
    const errors = visits.filter((v) => v.error).map((v) => v.error!);
    return { served: served.length, failed: errors.length, longestGapMs, errors: [...new Set(errors)] };
  }

  /** The counts answered so far, in order; a lost write shows as a gap or a repeat. */
  counts(): number[] {
    return this.visits.filter((v) => v.n !== undefined).map((v) => v.n!);
  }
}

/**
 * Upgrades as they happen to a user's Device: the Device and storage plugin images are built from
 * this code three times — A (its own version), B (a higher version), C (higher still, with a health
 * check that never passes) — and pushed to a registry of the test's own on loopback (Debian's
 * docker-registry). A Device runs A from compose.yaml on an engine of the test's own, with the notes
 * app counting visits in its encrypted volume. The reference Hive (in this process) names B, then
 * C, as its Device version.
 */
describe('upgrades: a Device replaced by a newer one, and rolled back from one that does not come up', () => {
  // Under /tmp: the engine's own mount namespace sees the machine's /tmp.
  const root = join('/tmp', `mosaic-upgrade-${process.pid}`);
  const suffix = randomBytes(3).toString('hex');
  const figures: string[] = [];
  let registry: LoopbackRegistry;
  let prefix: string;
  let engine: IsolatedEngine;
  let deployment: ComposeDeployment;
  let probe: EngineProbe;
  let hive: TestHive;
  let hivePort: number;
  let deviceId: string;
  let instance: string;
  let visits: VisitProbe;

  const image = (name: 'device' | 'storage-plugin', version: string) => `${prefix}/${name}:${version}`;
  const pushed: string[] = [];

  /** scripts/build-images.sh, as a release builds them, with this prefix and version. */
  async function build(version: string): Promise<void> {
    for (const name of ['storage-plugin', 'device']) {
      await run('bash', ['scripts/build-images.sh', '--only', name], {
        cwd: REPO,
        env: { ...process.env, IMAGE_PREFIX: prefix, VERSION: version, LOG_DIR: join(root, 'builds') },
        maxBuffer: 16 * 1024 * 1024,
      });
    }
  }

  /** C: B's code at a higher version whose health check fails, as a broken release's would. */
  async function breakHealthCheck(): Promise<void> {
    const dir = join(root, 'unhealthy');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'healthcheck.js'), "console.log('this release never turns healthy');\nprocess.exit(1);\n");
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${image('device', C)}\nCOPY healthcheck.js /code/dist/apps/device/healthcheck.js\n`);
    await run('docker', ['build', '-q', '-t', image('device', C), dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  }

  async function push(ref: string): Promise<void> {
    await run('docker', ['push', ref], { maxBuffer: 16 * 1024 * 1024 });
    pushed.push(ref);
  }

  const compose = (...args: string[]) => deployment.compose(...args);

  /** The Hive (re)started on the same database and port, naming `version` (and `deviceImage`) as the Device version. */
  async function startHive(version: string, deviceImage?: string): Promise<void> {
    await hive?.close();
    hive = await startE2eHive(join(root, 'hive.db'), hivePort, engine.gateway, {
      deviceVersion: version,
      ...(deviceImage ? { deviceImage } : {}),
    });
    hivePort = hive.port;
  }

  async function deviceContainer() {
    // By its exact name: while the updater works, the old one waits aside under another.
    const [listed] = await probe.docker.listContainers({ all: true, filters: { name: [`^/${PROJECT}-device-1$`] } });
    return probe.docker.getContainer(listed.Id).inspect();
  }

  async function pluginContainer() {
    return probe.docker.getContainer('mosaic-storage-plugin').inspect();
  }

  /** The attempt to reach `version`, once it ended. */
  async function attemptEnded(version: string) {
    const upgrade = await eventually(
      `the upgrade to ${version} ended`,
      () => hive.api.get(`/api/devices/${deviceId}/upgrade`).then((r) => r.body),
      (u) => u.attempts?.[0]?.targetVersion === version && !['pending', 'started'].includes(u.attempts[0].outcome),
      (UPGRADE_TIMEOUT_S + 300) * 1000,
    );
    return { upgrade, attempt: upgrade.attempts[0] };
  }

  /** The updater's steps (ms from its start), from the outcome it left in the device's STATE_DIR. */
  function updaterSteps(): Record<string, number> {
    const file = join(engine.root, 'data', 'volumes', `${PROJECT}_device-state`, '_data', 'upgrade', 'outcome.json');
    return JSON.parse(readFileSync(file, 'utf8')).steps;
  }

  async function images(): Promise<string[]> {
    return (await probe.docker.listImages()).flatMap((i) => i.RepoTags ?? []);
  }

  beforeAll(async () => {
    mkdirSync(join(root, 'builds'), { recursive: true });
    registry = await LoopbackRegistry.start();
    prefix = `${registry.address}/mosaic-upgrade-${suffix}`;
    for (const version of [A, B, C]) await build(version);
    await breakHealthCheck();
    for (const version of [A, B, C]) for (const name of ['device', 'storage-plugin'] as const) await push(image(name, version));
    // Only the registry holds them now: the test's engine pulls them from there, as a user's would.
    await run('docker', ['rmi', ...pushed, image('device', 'latest'), image('storage-plugin', 'latest')]).catch(() => undefined);

    engine = await IsolatedEngine.start();
    deployment = new ComposeDeployment(root, engine);
    probe = new EngineProbe(engine.socket);
    hivePort = 0;
    await startHive(A);
    const created = await hive.api.post('/api/devices', { name: 'upgraded' });
    deviceId = created.body.id;
    writeFileSync(deployment.tokenFile, `${created.body.token}\n`, { mode: 0o600 });
    deployment.settings({
      MOSAIC_IMAGE_PREFIX: prefix,
      MOSAIC_VERSION: A,
      HIVE_ADMIN_TOKEN: 'not-used-the-hive-runs-in-the-test',
      HIVE_URL: `http://${engine.gateway}:${hivePort}`,
      HIVE_ALLOW_INSECURE: 'true',
      AUTO_UPDATE: 'true',
      REPLICATION_INTERVAL_S: '5',
    });
    // The image's health check as it is, every second after a 30 s start; reports often enough to follow.
    deployment.override(
      [
        'services:',
        '  device:',
        '    healthcheck:',
        '      interval: 1s',
        '      start_period: 30s',
        '    environment:',
        `      UPGRADE_TIMEOUT_S: "${UPGRADE_TIMEOUT_S}"`,
        '      REPORT_VERSION_INTERVAL_S: "5"',
        '      REPORT_VOLUMES_INTERVAL_S: "5"',
        '',
      ].join('\n'),
    );
    await compose('up', '-d', 'device');
    await eventually(
      'the device authenticated in Hive',
      () => hive.api.get(`/api/devices/${deviceId}`),
      (r) => r.body.authenticated === true,
      180_000,
    );
    await eventually('the device container healthy', deviceContainer, (c) => c.State.Health?.Status === 'healthy', 120_000);

    const app = await installCatalogApp(hive.api, deviceId, 'notes', {}, 180_000);
    instance = app.instance;
    visits = new VisitProbe(await probe.publishedPort(app.containers[0].containerId, 8080));
    visits.start();
    await eventually(
      'the app counting visits',
      async () => visits.counts().length,
      (n) => n >= 5,
      30_000,
    );
  });

  afterAll(async () => {
    await visits?.stop();
    if (figures.length) process.stdout.write(`\nupgrade figures (2 shared cores):\n${figures.map((f) => `  ${f}`).join('\n')}\n`);
    if (deployment && process.env.DEVICE_TEST_LOG)
      process.stdout.write(await compose('logs', '--no-color', '--tail', '200').catch((e) => String(e)));
    await hive?.close();
    await engine?.stop();
    await registry?.stop();
    await run('docker', ['rmi', ...pushed]).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('runs A, the storage plugin beside it, from the registry', async () => {
    expect((await deviceContainer()).Config.Image).toBe(image('device', A));
    expect((await pluginContainer()).Config.Image).toBe(image('storage-plugin', A));
    const reported = await eventually(
      'report.version of A',
      () => hive.api.get(`/api/devices/${deviceId}/reports`).then((r) => r.body.version),
      (v) => v !== null,
    );
    expect(reported).toMatchObject({ version: A, image: image('device', A) });
    expect((await hive.api.get(`/api/devices/${deviceId}/upgrade`)).body).toMatchObject({ currentVersion: A, attempts: [] });
  });

  it('the Hive names B: the container is replaced with the same configuration, reports B, the plugin follows; the app served and kept every write throughout', async () => {
    const before = await deviceContainer();
    const started = Date.now();
    await startHive(B, image('device', B));
    const { upgrade, attempt } = await attemptEnded(B);
    const ended = Date.now();
    expect(attempt).toMatchObject({
      requestedBy: 'hive',
      fromVersion: A,
      targetVersion: B,
      targetImage: image('device', B),
      outcome: 'succeeded',
    });
    expect(upgrade).toMatchObject({ outcome: 'succeeded', rolledBack: [] });
    const steps = updaterSteps();
    expect(steps.stopped - steps.created).toBeLessThan(15_000); // the old device stops at once (not at the 30 s grace)

    // report.version shows B, from B's image.
    await eventually(
      'report.version of B',
      () => hive.api.get(`/api/devices/${deviceId}/reports`).then((r) => r.body.version),
      (v) => v?.version === B,
    );
    expect((await hive.api.get(`/api/devices/${deviceId}/reports`)).body.version.image).toBe(image('device', B));

    // The same container, but for its image: name, mounts, secrets, restart policy, labels, networks.
    const after = await deviceContainer();
    expect(after.Id).not.toBe(before.Id);
    expect(after.Config.Image).toBe(image('device', B));
    expect(after.Name).toBe(before.Name);
    expect(after.State.Health?.Status).toBe('healthy');
    expect(after.HostConfig.RestartPolicy).toEqual(before.HostConfig.RestartPolicy);
    const mounts = (c: typeof after) => c.Mounts.map((m) => `${m.Type} ${m.Name ?? m.Source} ${m.Destination} ${m.RW}`).sort();
    expect(mounts(after)).toEqual(mounts(before));
    const composeLabels = (c: typeof after) => Object.entries(c.Config.Labels).filter(([k]) => k.startsWith('com.docker.compose.'));
    expect(composeLabels(after)).toEqual(composeLabels(before));
    expect(after.Config.Labels['org.opencontainers.image.version']).toBe(B);
    // Aliases of their own, beside the engine's (each container's short id).
    const networks = (c: typeof after) =>
      Object.entries(c.NetworkSettings.Networks).map(([name, n]) => [name, (n.Aliases ?? []).filter((a: string) => !c.Id.startsWith(a))]);
    expect(networks(after)).toEqual(networks(before));
    expect(after.Config.Env.filter((e) => /^(HIVE_URL|AUTO_UPDATE|DEVICE_TOKEN_FILE|UPGRADE_TIMEOUT_S)=/.test(e)).sort()).toEqual(
      before.Config.Env.filter((e) => /^(HIVE_URL|AUTO_UPDATE|DEVICE_TOKEN_FILE|UPGRADE_TIMEOUT_S)=/.test(e)).sort(),
    );
    await expect(probe.docker.getContainer(before.Id).inspect()).rejects.toMatchObject({ statusCode: 404 });

    // The plugin container followed the device; A's images went once B was healthy.
    const plugin = await pluginContainer();
    expect(plugin.Config.Image).toBe(image('storage-plugin', B));
    expect(plugin.State.Running).toBe(true);
    const info = await hive.api.post(`/api/devices/${deviceId}/commands`, { type: 'SystemCommand.info', params: {}, timeoutSeconds: 60 });
    expect(info.body.result).toMatchObject({ deviceVersion: B, storagePluginVersion: B });
    const present = await images();
    expect(present).toEqual(expect.arrayContaining([image('device', B), image('storage-plugin', B)]));
    expect(present).not.toContain(image('device', A));
    expect(present).not.toContain(image('storage-plugin', A));

    // The app served the whole time, and every visit it counted is in its volume.
    const window = visits.between(started, ended);
    expect(window.errors).toEqual([]);
    const counts = visits.counts();
    expect(counts).toEqual(counts.map((_, i) => counts[0] + i));
    const stored = await hive.api.post(`/api/apps/${instance}/commands`, { command: 'visits', timeoutSeconds: 60 });
    expect(Number(stored.body.command.result.stdout.trim())).toBeGreaterThanOrEqual(counts.at(-1)!);

    // Replication goes on after the plugin was replaced under the writing app.
    const resumed = await eventually(
      'a replica of the app volume made by the new plugin',
      () => hive.api.get(`/api/apps/${instance}`).then((r) => r.body.volumes.find((v: { role: string }) => v.role === 'app')),
      // Until the new device has the keys again it reports no volume: undefined then.
      // Every 5 s here, so a report may well catch the next snapshot under way.
      (v) => typeof v?.lastReplicatedAt === 'string' && Date.parse(v.lastReplicatedAt) > ended && v.replication.state !== 'error',
      120_000,
    );
    expect(['idle', 'replicating']).toContain(resumed.replication.state);

    figures.push(
      `A→B upgrade: ${Date.parse(attempt.finishedAt) - Date.parse(attempt.requestedAt)} ms from the Hive's command to its recorded outcome; ` +
        `updater steps (ms from its start) ${JSON.stringify(steps)}; the device was down ${steps.verified - steps.stopped} ms ` +
        `(old stopped → new healthy and heard); app: ${window.served} visits served, ${window.failed} failed, longest gap ${window.longestGapMs} ms`,
    );
  });

  it('the Hive names C: it never turns healthy, B is put back within the deadline, the Hive records rolled_back and does not try C again', async () => {
    const before = await deviceContainer();
    const started = Date.now();
    await startHive(C);
    const { upgrade, attempt } = await attemptEnded(C);
    const ended = Date.now();
    expect(attempt).toMatchObject({
      fromVersion: B,
      targetVersion: C,
      targetImage: null,
      outcome: 'rolled_back',
      reason: { code: 'ROLLED_BACK', details: { reason: 'unhealthy', image: image('device', C), version: C } },
    });
    // The engine's last health-check entry: C's own output, or (on a machine so loaded that starting
    // node in the check takes longer than the image's 5 s timeout) the engine's timeout. Either way C
    // never turned healthy, and the reason says what the engine saw.
    expect(attempt.reason.message).toMatch(/health check failed: (this release never turns healthy|Health check exceeded timeout)/);
    expect(upgrade).toMatchObject({ outcome: 'rolled_back', rolledBack: [C] });
    const steps = updaterSteps();
    expect(steps.restored).toBeLessThan(UPGRADE_TIMEOUT_S * 1000);

    // B runs again: the same container, under its name, healthy, heard by the Hive; its plugin came back too.
    const after = await eventually('B healthy again', deviceContainer, (c) => c.State.Health?.Status === 'healthy', 120_000);
    expect(after.Id).toBe(before.Id);
    expect(after.Config.Image).toBe(image('device', B));
    expect(after.HostConfig.RestartPolicy).toEqual(before.HostConfig.RestartPolicy);
    const plugin = await eventually(
      'the plugin of B back',
      pluginContainer,
      (p) => p.Config.Image === image('storage-plugin', B) && p.State.Running,
    );
    expect(plugin.State.Running).toBe(true);
    const present = await images();
    expect(present).not.toContain(image('device', C));
    expect(present).not.toContain(image('storage-plugin', C));

    // B keeps reporting (every 5 s here): the Hive sends nothing more.
    const rolledBackAt = Date.parse(attempt.finishedAt);
    await eventually(
      'two reports of B after the rollback',
      () => hive.api.get(`/api/devices/${deviceId}/reports`).then((r) => r.body),
      (r) => r.version?.version === B && Date.parse(r.receivedAt.version) > rolledBackAt + 6_000,
      60_000,
    );
    const commands = (await hive.api.get(`/api/devices/${deviceId}/commands?limit=100`)).body as Array<{ type: string }>;
    expect(commands.filter((c) => c.type === 'UpgradeCommand.run')).toHaveLength(2);
    expect((await hive.api.get(`/api/devices/${deviceId}/upgrade`)).body.attempts).toHaveLength(2);

    // The app served the whole time and lost no write.
    const window = visits.between(started, ended);
    expect(window.errors).toEqual([]);
    const counts = visits.counts();
    expect(counts).toEqual(counts.map((_, i) => counts[0] + i));

    figures.push(
      `B→C rolled back: ${Date.parse(attempt.finishedAt) - Date.parse(attempt.requestedAt)} ms from the Hive's command to its recorded outcome; ` +
        `updater steps ${JSON.stringify(steps)}: C was refused ${steps.refused - steps.started} ms after it started, ` +
        `B ran again ${steps.restored - steps.refused} ms later (the device was down ${steps.restored - steps.stopped} ms); ` +
        `app: ${window.served} visits served, ${window.failed} failed, longest gap ${window.longestGapMs} ms`,
    );
  });
});
