import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, Events } from '@mosaic/protocol';
import { ComposeCliAdapter } from '../../apps/device/src/docker/compose-cli.adapter';
import { KeystoreService } from '../../apps/device/src/keystore/keystore.service';
import { staticSiteTemplate, startParams } from '../support/compose-templates';
import { RunningDevice, tempRoot } from '../support/device-harness';
import { DeviceStack, startDeviceStack } from '../support/device-stack';
import { httpGet } from '../support/engine';

jest.setTimeout(120_000);

describe('app lifecycle on a real engine, with the real storage plugin', () => {
  const root = tempRoot('lifecycle');
  const instances: string[] = [];
  let stack: DeviceStack;
  let device: RunningDevice;
  const engine = () => stack.probe.docker;
  const projectContainers = (instance: string) => stack.probe.projectContainers(instance);
  const publishedPort = (id: string, port: number) => stack.probe.publishedPort(id, port);

  function newInstance(): string {
    const id = randomUUID();
    instances.push(id);
    return id;
  }

  beforeAll(async () => {
    stack = await startDeviceStack(root.path);
    device = stack.device;
  });

  afterAll(async () => {
    for (const id of instances) await stack?.probe.removeInstance(id).catch(() => undefined);
    await stack?.close();
    root.remove();
  });

  it('starts an app, serves its page from the app volume, and reports it running', async () => {
    const instance = newInstance();
    const { ack, result } = await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    expect(ack).toEqual({ id: expect.any(String), accepted: true });
    expect(result.ok).toBe(true);
    expect(result.result).toMatchObject({ instance, state: 'running', containers: [{ service: 'web', state: 'running' }] });

    const port = await publishedPort(result.result.containers[0].containerId, 8080);
    const page = await httpGet(port);
    expect(page.status).toBe(200);
    expect(page.body.trim()).toBe(`hello from ${instance}`);

    const report = await device.hive.next((e) => e.event === Events.reportApps && e.payload.apps.some((a: any) => a.instance === instance && a.state === 'running'));
    expect(report.payload.apps.find((a: any) => a.instance === instance).application).toEqual({ appstore: 'Mosaic Test', name: 'static-site', version: '1.0.0' });

    const dir = join(device.config.appsDir, instance);
    expect(statSync(join(dir, 'variables.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'compose.yaml'), 'utf8')).not.toContain('link-token-secret');
    const keys = device.hive.keys.get(instance) as any[];
    expect(keys.map((k) => k.role).sort()).toEqual(['app', 'link']);
    expect(keys[0].encryptedPrivateKey).toContain('BEGIN PGP PRIVATE KEY BLOCK');
  });

  it('passes variables verbatim, never the device environment, and runs declared app commands without a shell', async () => {
    const instance = newInstance();
    const hostile = 'me@example.net\n${HOME} "quoted" \'single\' $(id) `id`';
    const { result } = await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate(), { ADMIN_EMAIL: hostile }));
    expect(result.ok).toBe(true);

    const environ = (await device.command('AppCommand.run', { instance, command: 'environ' })).result.result;
    expect(environ).toMatchObject({ exitCode: 0, stderr: '', truncated: false });
    const env = new Map(environ.stdout.split('\0').filter(Boolean).map((kv: string) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    expect(env.get('ADMIN_EMAIL')).toBe(hostile);
    expect(env.get('LEAK')).toBe('nothing');
    expect(env.get('LINK_DOMAIN')).toBe('brave-otter.example.net');

    const echoed = await device.command('AppCommand.run', { instance, command: 'echo', args: { text: 'a;b' } });
    expect(echoed.result.ok).toBe(false);
    expect(echoed.result.error).toMatchObject({ code: ErrorCode.INVALID_PARAMS, details: [{ field: 'params.args.text' }] });

    const page = await device.command('AppCommand.run', { instance, command: 'read-page' });
    expect(page.result.result.stdout.trim()).toBe(`hello from ${instance}`);

    const missing = await device.command('AppCommand.run', { instance, command: 'show-file' });
    expect(missing.result.error.code).toBe(ErrorCode.INVALID_PARAMS);
    const traversal = await device.command('AppCommand.run', { instance, command: 'show-file', args: { path: '/data/../etc/passwd' } });
    expect(traversal.result.error.code).toBe(ErrorCode.INVALID_PARAMS);
    expect(missing.result.error.code).toBe(ErrorCode.INVALID_PARAMS);
    const extra = await device.command('AppCommand.run', { instance, command: 'read-page', args: { x: 'y' } });
    expect(extra.result.error.code).toBe(ErrorCode.INVALID_PARAMS);
    const unknown = await device.command('AppCommand.run', { instance, command: 'rm-rf' });
    expect(unknown.result.error.code).toBe(ErrorCode.UNKNOWN_APP_COMMAND);

  });

  it('kills a timed-out app command inside its container: the engine would let it run on', async () => {
    const instance = newInstance();
    const { result } = await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    expect(result.ok).toBe(true);
    const containerId: string = result.result.containers[0].containerId;
    const sleeping = async () => ((await engine().getContainer(containerId).top()).Processes ?? []).filter((p: string[]) => p.join(' ').includes('sleep 97'));

    const slow = await device.command('AppCommand.run', { instance, command: 'slow', args: { seconds: '97' } });
    expect(slow.result.result).toMatchObject({ exitCode: 124 });
    // The result comes after the kill and the engine's word that the exec ended: nothing to wait for.
    expect(await sleeping()).toEqual([]);
    expect(slow.result.result.stderr).toContain('timed out after 1 s; killed');
    // The engine agrees: the container lists no exec of it any more (it lists the running ones).
    const execs = (await engine().getContainer(containerId).inspect()).ExecIDs ?? [];
    const states = await Promise.all(execs.map((id) => engine().getExec(id).inspect()));
    expect(states.filter((e) => e.ProcessConfig.arguments.includes('97'))).toEqual([]);
  });

  it('stops, starts again with the same data, and removes', async () => {
    const instance = newInstance();
    await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    const again = await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    expect(again.result.result.state).toBe('running');

    const stopped = await device.command('SchedulerAction.stop', { instance });
    expect(stopped.result.error).toBeUndefined();
    expect(stopped.result.ok).toBe(true);
    expect(stopped.result.result).toEqual({
      instance,
      state: 'stopped',
      volumes: [
        { name: `mosaic-${instance}-app`, lastReplicatedAt: expect.any(String) },
        { name: `mosaic-${instance}-link`, lastReplicatedAt: expect.any(String) },
      ],
    });
    const replicatedAt = Date.parse(stopped.result.result.volumes[0].lastReplicatedAt);
    expect(Date.now() - replicatedAt).toBeLessThan(60_000);
    expect((await projectContainers(instance)).every((c) => c.State === 'exited')).toBe(true);
    const notRunning = await device.command('AppCommand.run', { instance, command: 'read-page' });
    expect(notRunning.result.error.code).toBe(ErrorCode.NOT_RUNNING);

    const restarted = await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    expect(restarted.result.result.state).toBe('running');

    const removed = await device.command('SchedulerAction.stop', { instance, remove: true });
    expect(removed.result.ok).toBe(true);
    expect(await projectContainers(instance)).toEqual([]);
    expect(existsSync(join(device.config.appsDir, instance))).toBe(false);
    expect((await engine().getVolume(`mosaic-${instance}-app`).inspect()).Driver).toBe(stack.driver);
    const gone = await device.command('SchedulerAction.stop', { instance });
    expect(gone.result.error.code).toBe(ErrorCode.NOT_FOUND);
  });

  it('refuses every policy violation at once and leaves nothing behind', async () => {
    const instance = newInstance();
    const template = staticSiteTemplate().replace(
      '    ports: ["127.0.0.1::8080"]',
      [
        '    ports: ["127.0.0.1::8080"]',
        '    privileged: true',
        '    network_mode: host',
        '    cap_add: [SYS_ADMIN]',
        '    security_opt: ["seccomp=unconfined"]',
        '    devices: ["/dev/null:/dev/null"]',
      ].join('\n'),
    ).replace('      - data:/data', '      - data:/data\n      - /var/run/docker.sock:/var/run/docker.sock\n      - /etc:/host-etc:ro');
    const { result } = await device.command('SchedulerAction.start', startParams(instance, template));
    expect(result.ok).toBe(false);
    expect(result.error.code).toBe(ErrorCode.POLICY_VIOLATION);
    const rules = result.error.details.map((v: any) => v.rule).sort();
    expect(rules).toEqual(['cap_add', 'devices', 'docker_socket', 'host_path', 'network_mode', 'privileged', 'security_opt']);
    expect(await projectContainers(instance)).toEqual([]);
    expect(existsSync(join(device.config.appsDir, instance))).toBe(false);
    expect(device.hive.keys.has(instance)).toBe(false);
    await expect(engine().getVolume(`mosaic-${instance}-app`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await stack.plugin.control.request('GET', '/volumes')).body.filter((v: any) => v.instance === instance)).toEqual([]);
  });

  it('restarts a stopped app without checking its template again when the params are the same; other params are checked', async () => {
    const config = jest.spyOn(device.module.get(ComposeCliAdapter), 'config');
    const instance = newInstance();
    try {
      const start = startParams(instance, staticSiteTemplate(), { ADMIN_EMAIL: 'me@example.net' });
      expect((await device.command('SchedulerAction.start', start)).result).toMatchObject({ ok: true, result: { state: 'running' } });
      expect(config).toHaveBeenCalledTimes(1);
      expect((await device.command('SchedulerAction.stop', { instance })).result.ok).toBe(true);
      expect((await device.command('SchedulerAction.start', start)).result).toMatchObject({ ok: true, result: { state: 'running' } });
      expect(config).toHaveBeenCalledTimes(1);

      expect((await device.command('SchedulerAction.stop', { instance })).result.ok).toBe(true);
      const refused = { ...start, compose: start.compose.replace('    ports: ["127.0.0.1::8080"]', '    ports: ["127.0.0.1::8080"]\n    privileged: true') };
      expect((await device.command('SchedulerAction.start', refused)).result).toMatchObject({ ok: false, error: { code: ErrorCode.POLICY_VIOLATION } });
      expect(config).toHaveBeenCalledTimes(2);
      const changed = { ...start, variables: { ADMIN_EMAIL: 'other@example.net' } };
      expect((await device.command('SchedulerAction.start', changed)).result).toMatchObject({ ok: true, result: { state: 'running' } });
      expect(config).toHaveBeenCalledTimes(3);

      // Removed, the instance's check is forgotten: installing it again checks its template.
      expect((await device.command('SchedulerAction.stop', { instance, remove: true })).result.ok).toBe(true);
      expect((await device.command('SchedulerAction.start', changed)).result).toMatchObject({ ok: true, result: { state: 'running' } });
      expect(config).toHaveBeenCalledTimes(4);
      expect((await device.command('SchedulerAction.stop', { instance, remove: true })).result.ok).toBe(true);
    } finally {
      config.mockRestore();
    }
  });

  it("checks a move's start at its prepare (§2.7): a refused app is refused before anything is staged and keeps no keys, a checked one is not checked again", async () => {
    const config = jest.spyOn(device.module.get(ComposeCliAdapter), 'config');
    const instance = newInstance();
    const appsLeft = () => readdirSync(device.config.appsDir).filter((name) => name.includes(instance));
    try {
      // The app ran here once: its keys are in the Hive, as a move's target finds them.
      await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
      expect((await device.command('SchedulerAction.stop', { instance, remove: true })).result.ok).toBe(true);

      const refused = startParams(instance, staticSiteTemplate().replace('    ports: ["127.0.0.1::8080"]', '    ports: ["127.0.0.1::8080"]\n    privileged: true'), {}, true);
      const keystore = device.module.get(KeystoreService);
      const asked = () => device.hive.emitted.filter((e) => e.event === Events.keysGet && e.payload.instance === instance).length;
      const askedBefore = asked();
      const early = await device.command('SchedulerAction.prepare', { instance, start: refused });
      expect(early.result).toMatchObject({ ok: false, error: { code: ErrorCode.POLICY_VIOLATION, details: [{ rule: 'privileged' }] } });
      // Refused before anything was staged, and no file of it is left; the keys, fetched and opened
      // beside the check, are not kept. So for a failover start the same app refused.
      expect(asked()).toBe(askedBefore + 1);
      expect(keystore.cached(instance)).toBeUndefined();
      expect(appsLeft()).toEqual([]);
      const refusedStart = await device.command('SchedulerAction.start', refused);
      expect(refusedStart.result).toMatchObject({ ok: false, error: { code: ErrorCode.POLICY_VIOLATION } });
      expect(asked()).toBe(askedBefore + 2);
      expect(keystore.cached(instance)).toBeUndefined();
      expect(appsLeft()).toEqual([]);

      const mismatched = await device.command('SchedulerAction.prepare', { instance, start: startParams(randomUUID(), staticSiteTemplate(), {}, true) });
      expect(mismatched.result).toMatchObject({ ok: false, error: { code: ErrorCode.INVALID_PARAMS, details: [{ field: 'start' }] } });
      const withDiscard = await device.command('SchedulerAction.prepare', { instance, discard: true, start: startParams(instance, staticSiteTemplate(), {}, true) });
      expect(withDiscard.result).toMatchObject({ ok: false, error: { code: ErrorCode.INVALID_PARAMS } });

      const start = startParams(instance, staticSiteTemplate(), { ADMIN_EMAIL: 'me@example.net' }, true);
      config.mockClear();
      const prepared = await device.command('SchedulerAction.prepare', { instance, start });
      expect(prepared.result).toMatchObject({ ok: true, result: { instance } });
      expect(config).toHaveBeenCalledTimes(1);
      const started = await device.command('SchedulerAction.start', start);
      expect(started.result).toMatchObject({ ok: true, result: { state: 'running' } });
      expect(config).toHaveBeenCalledTimes(1);
      expect(readFileSync(join(device.config.appsDir, instance, 'compose.yaml'), 'utf8')).toBe(start.compose);

      // Another start than the one checked (a variable changed since) is checked again.
      expect((await device.command('SchedulerAction.stop', { instance, remove: true })).result.ok).toBe(true);
      expect((await device.command('SchedulerAction.prepare', { instance, start })).result.ok).toBe(true);
      config.mockClear();
      const changed = await device.command('SchedulerAction.start', { ...start, variables: { ADMIN_EMAIL: 'other@example.net' } });
      expect(changed.result).toMatchObject({ ok: true, result: { state: 'running' } });
      expect(config).toHaveBeenCalledTimes(1);

      // A refusal keeps the keys the device held before it.
      const refusedLater = await device.command('SchedulerAction.prepare', { instance, start: refused });
      expect(refusedLater.result).toMatchObject({ ok: false, error: { code: ErrorCode.POLICY_VIOLATION } });
      expect(keystore.cached(instance)).toBeDefined();
    } finally {
      config.mockRestore();
    }
  });

  it('refuses a template that is not YAML, and an app command whose argv[0] is a shell', async () => {
    const notYaml = await device.command('SchedulerAction.start', startParams(newInstance(), 'services: [unclosed'));
    expect(notYaml.result.error.code).toBe(ErrorCode.COMPOSE_INVALID);

    const shell = staticSiteTemplate().replace('argv: ["cat", "/data/index.html"]', 'argv: ["/bin/sh", "-c", "{{script}}"]');
    const instance = newInstance();
    const refused = await device.command('SchedulerAction.start', startParams(instance, shell));
    expect(refused.result.error.code).toBe(ErrorCode.POLICY_VIOLATION);
    expect(JSON.stringify(refused.result.error.details)).toContain('is a shell');
    expect(await projectContainers(instance)).toEqual([]);
  });

  it('refuses variables that would steer the Docker tools', async () => {
    const { result } = await device.command('SchedulerAction.start', startParams(newInstance(), staticSiteTemplate(), { DOCKER_HOST: 'tcp://127.0.0.1:1' }));
    expect(result.error).toMatchObject({ code: ErrorCode.INVALID_PARAMS, details: [{ field: 'params.variables.DOCKER_HOST' }] });
  });

  it('answers BUSY to a start of an instance that is still starting', async () => {
    const instance = newInstance();
    const first = device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    const second = await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    expect(second.ack).toMatchObject({ accepted: false, error: { code: ErrorCode.BUSY } });
    expect((await first).result.ok).toBe(true);
  });

  it('reports within 2 s when a container dies behind its back, and brings apps back on boot', async () => {
    const instance = newInstance();
    const { result } = await device.command('SchedulerAction.start', startParams(instance, staticSiteTemplate()));
    const from = device.hive.emitted.length;
    await engine().getContainer(result.result.containers[0].containerId).stop({ t: 0 });
    const started = Date.now();
    const report = await device.hive.next(
      (e) => e.event === Events.reportApps && e.payload.apps.some((a: any) => a.instance === instance && a.state === 'stopped'),
      from,
    );
    expect(report).toBeDefined();
    expect(Date.now() - started).toBeLessThan(2000 + 1000); // §4: within 2 s (+1 s for the engine's own stop)

    // A new device over the same folders finds the app that should run and starts it again.
    device = await stack.restartDevice();
    const back = await device.hive.next((e) => e.event === Events.reportApps && e.payload.apps.some((a: any) => a.instance === instance && a.state === 'running'));
    expect(back).toBeDefined();
    expect((await projectContainers(instance))[0].State).toBe('running');
  });
});
