import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '@mosaic/protocol';
import { AppLifecycleService } from '../../apps/device/src/apps/app-lifecycle.service';
import { startParams } from '../support/compose-templates';
import { RunningDevice, tempRoot, testDeviceConfig } from '../support/device-harness';
import { DeviceStack, startDeviceStack } from '../support/device-stack';

jest.setTimeout(180_000);

/**
 * Issue #10: what a hostile Hive (or an app it sends) tries against the device, sent through the
 * protocol as a Hive would send it, on a real engine with the real Compose and storage plugin.
 */
describe('the trust boundary against a hostile Hive and its apps', () => {
  const root = tempRoot('trust');
  /** A host folder no app may reach: an attack that works leaves `pwned` in it. */
  const outside = join(root.path, 'outside');
  const instances: string[] = [];
  let stack: DeviceStack;
  let device: RunningDevice;
  const containers = (instance: string) => stack.probe.projectContainers(instance);

  function newInstance(): string {
    const id = randomUUID();
    instances.push(id);
    return id;
  }

  /**
   * A one-service app on the test image: `service` adds lines to the service, `mounts` to its
   * volumes, `volumes` to the top-level volumes and `top` more top-level sections.
   */
  function app(parts: { service?: string[]; mounts?: string[]; volumes?: string[]; top?: string } = {}): string {
    return [
      'services:',
      '  web:',
      '    image: mosaic-test/busybox',
      '    command: ["sleep", "300"]',
      '    stop_grace_period: 1s',
      ...(parts.service ?? []).map((line) => `    ${line}`),
      `    volumes: ${JSON.stringify(['data:/data', ...(parts.mounts ?? [])])}`,
      'volumes:',
      '  data:',
      '    external: true',
      '    name: ${APP_VOLUME_NAME}',
      ...(parts.volumes ?? []).map((line) => `  ${line}`),
      parts.top ?? '',
    ].join('\n');
  }

  /** Starts `compose` as a new instance and expects a refusal that created nothing anywhere. */
  async function refused(compose: string, application = 'static-site'): Promise<any> {
    const instance = newInstance();
    const { result } = await device.command('SchedulerAction.start', {
      ...startParams(instance, compose),
      application: { appstore: 'Mosaic Test', name: application, version: '1.0.0' },
    });
    expect(result.ok).toBe(false);
    expect(await containers(instance)).toEqual([]);
    expect(existsSync(join(device.config.appsDir, instance))).toBe(false);
    expect((await stack.plugin.control.request('GET', '/volumes')).body.filter((v: any) => v.instance === instance)).toEqual([]);
    return result.error;
  }

  beforeAll(async () => {
    mkdirSync(outside, { recursive: true });
    stack = await startDeviceStack(root.path);
    device = stack.device;
  });

  afterAll(async () => {
    for (const id of instances) await stack?.probe.removeInstance(id).catch(() => undefined);
    await stack?.close();
    root.remove();
  });

  afterEach(() => {
    const pwned = existsSync(join(outside, 'pwned'));
    rmSync(join(outside, 'pwned'), { force: true });
    expect(pwned ? 'an app wrote into a host folder outside its own' : 'nothing outside').toBe('nothing outside');
  });

  describe('a symlink cannot turn a bind mount into a host path', () => {
    it('in one start: a service plants the link, the next one (service_completed_successfully) binds it', async () => {
      const compose = [
        'services:',
        '  plant:',
        '    image: mosaic-test/busybox',
        `    command: ["sh", "-c", "rm -rf /data/d && ln -s ${outside} /data/d"]`,
        '    volumes: ["./data:/data"]',
        '  reach:',
        '    image: mosaic-test/busybox',
        '    command: ["sh", "-c", "echo pwned > /mnt/pwned; sleep 300"]',
        '    depends_on:',
        '      plant: { condition: service_completed_successfully }',
        '    volumes: ["./data/d:/mnt"]',
      ].join('\n');
      const error = await refused(compose);
      expect(error.code).toBe(ErrorCode.POLICY_VIOLATION);
      expect(error.details).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ service: 'plant', rule: 'host_path', path: 'services.plant.volumes[0]' }),
          expect.objectContaining({ service: 'reach', rule: 'host_path', path: 'services.reach.volumes[0]' }),
        ]),
      );
    });

    it('across two starts: the first one cannot plant it, the second cannot bind it', async () => {
      const plant = app({
        service: [`entrypoint: ["sh", "-c", "rm -rf /app/d && ln -s ${outside} /app/d; sleep 300"]`],
        mounts: ['./data:/app'],
      });
      const first = await refused(plant);
      expect(first.code).toBe(ErrorCode.POLICY_VIOLATION);
      expect(first.details).toEqual([expect.objectContaining({ rule: 'host_path', path: 'services.web.volumes[1]' })]);

      const reach = app({ service: ['entrypoint: ["sh", "-c", "echo pwned > /mnt/pwned; sleep 300"]'], mounts: ['./data/d:/mnt'] });
      const second = await refused(reach);
      expect(second.code).toBe(ErrorCode.POLICY_VIOLATION);
      expect(second.details).toEqual([expect.objectContaining({ rule: 'host_path', path: 'services.web.volumes[1]' })]);
    });

    const hostPaths: Array<[label: string, compose: string, path: string]> = [
      [
        'a volume whose driver_opts bind a folder of the app',
        app({ mounts: ['cache:/cache'], volumes: ['cache:', '  driver: local', '  driver_opts: { type: none, o: bind, device: ./data }'] }),
        'volumes.cache.driver_opts',
      ],
      [
        'a config read from a file of the app',
        app({ service: ['configs: [conf]'], top: 'configs:\n  conf:\n    file: ./data/d' }),
        'configs.conf.file',
      ],
      [
        'a secret read from a file of the app',
        app({ service: ['secrets: [key]'], top: 'secrets:\n  key:\n    file: ./data/d' }),
        'secrets.key.file',
      ],
    ];

    it.each(hostPaths)('refuses %s', async (_label, compose, path) => {
      const error = await refused(compose);
      expect(error.code).toBe(ErrorCode.POLICY_VIOLATION);
      expect(error.details).toEqual([expect.objectContaining({ rule: 'host_path', path })]);
    });

    it.each([
      ['its compose file', 'compose.yaml'],
      ['its folder', ''],
    ])('brings no app back at boot when %s became a symlink', async (_label, entry) => {
      const instance = newInstance();
      const started = await device.command('SchedulerAction.start', startParams(instance, app()));
      expect(started.result.ok).toBe(true);
      // Stopped behind the device's back, it should run: boot would bring it back.
      await stack.probe.docker.getContainer(started.result.result.containers[0].containerId).stop({ t: 0 });
      const real = join(device.config.appsDir, instance, entry);
      const moved = join(outside, `${instance}-${entry || 'folder'}`);
      renameSync(real, moved);
      symlinkSync(moved, real);

      device = await stack.restartDevice();
      const restarted = await device.module.get(AppLifecycleService).reconcile();
      expect(restarted).not.toContain(instance);
      expect((await containers(instance)).map((c) => c.State)).toEqual(['exited']);
    });
  });

  describe('only what Mosaic allows reaches the engine', () => {
    beforeAll(async () => {
      // Where the Hive and the Device run in a local Mosaic: no app may join it.
      await stack.probe.docker.createNetwork({ Name: 'mosaic_default' });
    });

    const attacks: Array<[label: string, compose: string, path: string]> = [
      ['gpus', app({ service: ['gpus: all'] }), 'services.web.gpus'],
      ['another runtime', app({ service: ['runtime: runc'] }), 'services.web.runtime'],
      [
        'devices reserved through deploy',
        app({
          service: ['deploy:', '  resources:', '    reservations:', '      devices: [{ driver: nvidia, count: all, capabilities: [gpu] }]'],
        }),
        'services.web.deploy.resources.reservations.devices',
      ],
      [
        'an SELinux label that unconfines (spc_t)',
        app({ service: ['security_opt: ["label=type:spc_t"]'] }),
        'services.web.security_opt[0]',
      ],
      ['a macvlan network', app({ service: ['networks: [lan]'], top: 'networks:\n  lan:\n    driver: macvlan' }), 'networks.lan'],
      ['an ipvlan network', app({ service: ['networks: [lan]'], top: 'networks:\n  lan:\n    driver: ipvlan' }), 'networks.lan'],
      [
        'the local Mosaic’s network, as an external network',
        app({ service: ['networks: [mosaic]'], top: 'networks:\n  mosaic:\n    external: true\n    name: mosaic_default' }),
        'networks.mosaic',
      ],
      [
        'an io.mosaic.* label',
        app({ service: ['labels: { io.mosaic.component: storage-plugin, io.mosaic.storage-driver: mosaic }'] }),
        'services.web.labels["io.mosaic.component"]',
      ],
      [
        'a com.docker.compose.* label',
        app({ service: ['labels: { com.docker.compose.project: mosaic-' + randomUUID() + ' }'] }),
        'services.web.labels["com.docker.compose.project"]',
      ],
      ['container_name', app({ service: ['container_name: mosaic-storage-plugin'] }), 'services.web.container_name'],
    ];

    it.each(attacks)('refuses %s, by its path', async (_label, compose, path) => {
      const error = await refused(compose);
      expect(error.code).toBe(ErrorCode.POLICY_VIOLATION);
      expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
      for (const violation of error.details)
        expect(violation).toMatchObject({ rule: expect.any(String), path: expect.any(String), message: expect.any(String) });
    });

    it('refuses use_api_socket (Compose before 2.35 does not know it; the allow-list refuses it after)', async () => {
      const error = await refused(app({ service: ['use_api_socket: true'] }));
      expect([ErrorCode.COMPOSE_INVALID, ErrorCode.POLICY_VIOLATION]).toContain(error.code);
      if (error.code === ErrorCode.POLICY_VIOLATION)
        expect(error.details).toEqual([expect.objectContaining({ path: 'services.web.use_api_socket' })]);
      else expect(error.message).toContain('use_api_socket');
    });
  });

  describe('a refused start leaves a known instance as it was', () => {
    it('keeps its files, metadata and desired state, so a stop still works', async () => {
      const instance = newInstance();
      const dir = join(device.config.appsDir, instance);
      expect((await device.command('SchedulerAction.start', startParams(instance, app()))).result.ok).toBe(true);
      expect((await device.command('SchedulerAction.stop', { instance })).result.ok).toBe(true);
      const files = () =>
        Object.fromEntries(
          readdirSync(dir)
            .sort()
            .map((name) => [name, readFileSync(join(dir, name), 'utf8')]),
        );
      const before = files();
      const ids = (await containers(instance)).map((c) => c.Id);

      const policy = await device.command('SchedulerAction.start', startParams(instance, app({ service: ['privileged: true'] })));
      expect(policy.result.error.code).toBe(ErrorCode.POLICY_VIOLATION);
      const compose = await device.command('SchedulerAction.start', startParams(instance, app({ service: ['use_api_socket: true'] })));
      expect([ErrorCode.COMPOSE_INVALID, ErrorCode.POLICY_VIOLATION]).toContain(compose.result.error.code);

      expect(files()).toEqual(before);
      expect(JSON.parse(before['mosaic.json']).desired).toBe('stopped');
      expect((await containers(instance)).map((c) => [c.Id, c.State])).toEqual(ids.map((id) => [id, 'exited']));
      const stopped = await device.command('SchedulerAction.stop', { instance });
      expect(stopped.result.error).toBeUndefined();
      expect(stopped.result.ok).toBe(true);
    });
  });

  describe('an exemption names the app and the template the operator approved', () => {
    // Approved by the operator: it asks for a capability ALLOWED_CAPS does not give.
    const approved = app({ service: ['cap_add: [SYS_PTRACE]'] });
    const digest = createHash('sha256').update(approved).digest('hex');

    beforeAll(async () => {
      const exemption = testDeviceConfig(root.path, {}, { ALLOW_PRIVILEGED_APPS: `approved-app@sha256:${digest}` }).allowPrivilegedApps;
      device = await stack.restartDevice(undefined, { allowPrivilegedApps: exemption });
    });

    it('refuses another template sent under the exempt name', async () => {
      const forged = app({ service: ['cap_add: [SYS_PTRACE]', 'labels: { io.mosaic.component: device }'] });
      const error = await refused(forged, 'approved-app');
      expect(error.code).toBe(ErrorCode.POLICY_VIOLATION);
    });

    it('refuses the approved template under another name', async () => {
      const error = await refused(approved, 'static-site');
      expect(error.code).toBe(ErrorCode.POLICY_VIOLATION);
      expect(error.details).toEqual([expect.objectContaining({ rule: 'cap_add' })]);
    });

    it('runs the approved template under its name', async () => {
      const instance = newInstance();
      const { result } = await device.command('SchedulerAction.start', {
        ...startParams(instance, approved),
        application: { appstore: 'Mosaic Test', name: 'approved-app', version: '1.0.0' },
      });
      expect(result.error).toBeUndefined();
      expect(result.result).toMatchObject({ state: 'running', containers: [{ service: 'web', state: 'running' }] });
    });
  });

  it('leaves nothing but instance folders in APPS_DIR (no staged files of refused starts)', () => {
    expect(readdirSync(device.config.appsDir).filter((name) => !/^[0-9a-f-]{36}$/.test(name))).toEqual([]);
  });
});
