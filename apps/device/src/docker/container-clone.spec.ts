import { InspectedContainer, InspectedImage } from './docker-engine.adapter';
import { recreatePlan } from './container-clone';

const OLD_ID = '3f2a1b4c5d6e'.padEnd(64, '0');
const HEALTH = ['CMD', 'node', 'dist/apps/device/healthcheck.js'];

/** The Device image's defaults, as the engine shows them. */
function oldImage(): InspectedImage {
  return {
    Id: 'sha256:old',
    Config: {
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production', 'STORAGE_PLUGIN_MODE=container', 'APPS_DIR=/apps'],
      Cmd: ['node', 'dist/apps/device/main.js'],
      WorkingDir: '/code',
      User: '',
      Labels: { 'org.opencontainers.image.version': '0.1.0', 'org.opencontainers.image.title': 'mosaic-device' },
      Volumes: { '/apps': {}, '/var/lib/mosaic/device': {} },
      Healthcheck: { Test: HEALTH, Interval: 30e9, Timeout: 5e9, StartPeriod: 60e9, Retries: 3 },
      StopSignal: 'SIGTERM',
    },
  };
}

/** A Device container as compose.yaml creates it (inspect's view: the image's defaults merged in). */
function device(overrides: Partial<InspectedContainer> = {}): InspectedContainer {
  const image = oldImage().Config!;
  return {
    Id: OLD_ID,
    Name: '/mosaic-device-1',
    Image: 'sha256:old',
    State: { Status: 'running', Running: true, Restarting: false, ExitCode: 0 },
    Config: {
      Hostname: OLD_ID.slice(0, 12),
      Env: [
        'HIVE_URL=http://hive:8080',
        'AUTO_UPDATE=true',
        'APPS_DIR=/var/lib/mosaic/apps',
        ...image.Env!.filter((e) => !e.startsWith('APPS_DIR=')),
      ],
      Cmd: image.Cmd,
      Image: '127.0.0.1:5000/mosaic/device:0.1.0',
      WorkingDir: '/code',
      User: '',
      Labels: {
        ...image.Labels,
        'com.docker.compose.project': 'mosaic',
        'com.docker.compose.service': 'device',
        'io.mosaic.component': 'device',
      },
      Volumes: image.Volumes,
      // compose's healthcheck override: the interval is the container's own, the rest the image's.
      Healthcheck: { ...image.Healthcheck, Interval: 1e9 },
      StopSignal: 'SIGTERM',
    },
    HostConfig: {
      NetworkMode: 'mosaic_default',
      Binds: ['/var/run/docker.sock:/var/run/docker.sock:rw'],
      Mounts: [
        { Type: 'volume', Source: 'mosaic_device-state', Target: '/var/lib/mosaic/device' },
        { Type: 'bind', Source: '/srv/secrets/token', Target: '/run/secrets/mosaic_device_token', ReadOnly: true },
      ],
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
      PortBindings: { '9410/tcp': [{ HostIp: '127.0.0.1', HostPort: '9410' }] },
      LogConfig: { Type: 'local', Config: {} },
    },
    NetworkSettings: {
      Networks: {
        mosaic_default: {
          Aliases: ['mosaic-device-1', 'device', OLD_ID.slice(0, 12)],
          IPAMConfig: null,
          Links: null,
          NetworkID: 'n1',
          EndpointID: 'e1',
          IPAddress: '172.18.0.3',
        },
        backend: { Aliases: ['device-backend'], IPAMConfig: { IPv4Address: '10.9.0.5' }, NetworkID: 'n2', EndpointID: 'e2' },
      },
    },
    Mounts: [
      { Type: 'bind', Source: '/var/run/docker.sock', Destination: '/var/run/docker.sock', RW: true },
      {
        Type: 'volume',
        Name: 'mosaic_device-state',
        Source: '/var/lib/docker/volumes/mosaic_device-state/_data',
        Destination: '/var/lib/mosaic/device',
        RW: true,
      },
      { Type: 'bind', Source: '/srv/secrets/token', Destination: '/run/secrets/mosaic_device_token', RW: false },
      { Type: 'volume', Name: 'f'.repeat(64), Source: `/var/lib/docker/volumes/${'f'.repeat(64)}/_data`, Destination: '/apps', RW: true },
    ],
    ...overrides,
  };
}

describe('recreatePlan: the same container from another image', () => {
  const NEW = '127.0.0.1:5000/mosaic/device:0.2.0';

  it('keeps the name, the host settings (mounts, secrets, restart policy, logging) and takes the new image', () => {
    const { create } = recreatePlan(device(), oldImage(), NEW);
    expect(create.name).toBe('mosaic-device-1');
    expect(create.Image).toBe(NEW);
    expect(create.HostConfig).toMatchObject({
      NetworkMode: 'mosaic_default',
      Binds: ['/var/run/docker.sock:/var/run/docker.sock:rw'],
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
      LogConfig: { Type: 'local', Config: {} },
      PortBindings: { '9410/tcp': [{ HostIp: '127.0.0.1', HostPort: '9410' }] },
    });
  });

  it('carries its anonymous volumes over by name, beside the mounts it names (secrets too)', () => {
    const { create } = recreatePlan(device(), oldImage(), NEW);
    expect((create.HostConfig as InspectedContainer['HostConfig']).Mounts).toEqual([
      { Type: 'volume', Source: 'mosaic_device-state', Target: '/var/lib/mosaic/device' },
      { Type: 'bind', Source: '/srv/secrets/token', Target: '/run/secrets/mosaic_device_token', ReadOnly: true },
      { Type: 'volume', Source: 'f'.repeat(64), Target: '/apps', ReadOnly: false },
    ]);
  });

  it("keeps the container's own environment and labels, and lets the new image's defaults replace the old image's", () => {
    const { create } = recreatePlan(device(), oldImage(), NEW);
    expect(create.Env).toEqual(['HIVE_URL=http://hive:8080', 'AUTO_UPDATE=true', 'APPS_DIR=/var/lib/mosaic/apps']);
    expect(create.Labels).toEqual({
      'com.docker.compose.project': 'mosaic',
      'com.docker.compose.service': 'device',
      'io.mosaic.component': 'device',
    });
    expect(create).not.toHaveProperty('Cmd');
    expect(create).not.toHaveProperty('WorkingDir');
    expect(create.Volumes).toEqual({});
    expect(create).not.toHaveProperty('StopSignal'); // the image's: the new image's applies
    expect(create).not.toHaveProperty('Hostname'); // the engine's, after the old id: the new one gets its own
    const named = device();
    named.Config.Hostname = 'nas';
    expect(recreatePlan(named, oldImage(), NEW).create.Hostname).toBe('nas');
  });

  it("keeps only the health check settings of its own: the new image's check runs, at the container's interval", () => {
    const { create } = recreatePlan(device(), oldImage(), NEW);
    expect(create.Healthcheck).toEqual({ Interval: 1e9 });
    const plain = device();
    plain.Config.Healthcheck = oldImage().Config!.Healthcheck;
    expect(recreatePlan(plain, oldImage(), NEW).create).not.toHaveProperty('Healthcheck');
  });

  it('keeps a stop signal the container set itself', () => {
    const own = device();
    own.Config.StopSignal = 'SIGINT';
    expect(recreatePlan(own, oldImage(), NEW).create.StopSignal).toBe('SIGINT');
  });

  it('keeps a command and an entrypoint the container set itself', () => {
    const own = device();
    own.Config.Cmd = ['node', 'dist/apps/device/main.js', '--inspect'];
    expect(recreatePlan(own, oldImage(), NEW).create.Cmd).toEqual(['node', 'dist/apps/device/main.js', '--inspect']);
    own.Config.Entrypoint = ['tini', '--'];
    own.Config.Cmd = oldImage().Config!.Cmd;
    const plan = recreatePlan(own, oldImage(), NEW).create;
    expect(plan.Entrypoint).toEqual(['tini', '--']);
    expect(plan.Cmd).toEqual(['node', 'dist/apps/device/main.js']); // with its own entrypoint the command is its own too
  });

  it('attaches the first network at create and the others after, with their aliases and addresses, without the old id as alias', () => {
    const { create, networks } = recreatePlan(device(), oldImage(), NEW);
    expect(create.NetworkingConfig).toEqual({ EndpointsConfig: { mosaic_default: { Aliases: ['mosaic-device-1', 'device'] } } });
    expect(networks).toEqual([{ name: 'backend', endpoint: { Aliases: ['device-backend'], IPAMConfig: { IPv4Address: '10.9.0.5' } } }]);
  });

  it('leaves networking alone for host, none and container: modes', () => {
    for (const mode of ['host', 'none', 'container:abc']) {
      const c = device();
      c.HostConfig.NetworkMode = mode;
      c.NetworkSettings.Networks = mode === 'host' ? { host: { NetworkID: 'h' } } : {};
      const { create, networks } = recreatePlan(c, oldImage(), NEW);
      expect(create).not.toHaveProperty('NetworkingConfig');
      expect(networks).toEqual([]);
    }
    const shared = device();
    shared.HostConfig.NetworkMode = 'container:abc';
    expect(recreatePlan(shared, oldImage(), NEW).create).not.toHaveProperty('Hostname');
  });

  it('attaches the default bridge for the default network mode', () => {
    const c = device();
    c.HostConfig.NetworkMode = 'default';
    c.NetworkSettings.Networks = { bridge: { Aliases: null, NetworkID: 'b' } };
    const { create, networks } = recreatePlan(c, oldImage(), NEW);
    expect(create.NetworkingConfig).toEqual({ EndpointsConfig: { bridge: {} } });
    expect(networks).toEqual([]);
  });

  it('does not change what it was given', () => {
    const c = device();
    const before = structuredClone(c);
    recreatePlan(c, oldImage(), NEW);
    expect(c).toEqual(before);
  });
});
