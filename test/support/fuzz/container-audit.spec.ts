import { AuditRules, InspectedContainer, auditContainer } from './container-audit';

const INSTANCE = '0b6c9a52-3f1e-4c55-9a41-2f4c0a8f3e11';
const PROJECT = `mosaic-${INSTANCE}`;
const OTHER = 'mosaic-7d1f3c2a-0e4b-4f6a-8c3d-5b9e1a2f4c60';

/** A container as the engine shows one Compose started for an app within the policy. */
function container(change: (c: InspectedContainer) => void = () => undefined): InspectedContainer {
  const c: InspectedContainer = {
    Id: 'a'.repeat(64),
    Name: `/${PROJECT}-web-1`,
    HostConfig: {
      NetworkMode: `${PROJECT}_default`,
      Privileged: false,
      CapAdd: ['NET_BIND_SERVICE'],
      SecurityOpt: ['no-new-privileges:true'],
      Runtime: 'runc',
      IpcMode: 'private',
    },
    Mounts: [
      { Type: 'volume', Name: `${PROJECT}-app`, Source: '', Destination: '/data', Driver: 'mosaic', Mode: 'z', RW: true, Propagation: '' },
      {
        Type: 'volume',
        Name: `${PROJECT}_cache`,
        Source: '/var/lib/docker/volumes/x/_data',
        Destination: '/cache',
        Driver: 'local',
        Mode: 'z',
        RW: true,
        Propagation: '',
      },
      { Type: 'tmpfs', Source: '', Destination: '/tmp', Mode: '', RW: true, Propagation: '' },
    ],
    Config: {
      Labels: {
        'com.docker.compose.project': PROJECT,
        'com.docker.compose.service': 'web',
        'com.docker.compose.container-number': '1',
        'com.docker.compose.config-hash': 'abc',
        'org.example.app': 'mine',
      },
    },
    NetworkSettings: { Networks: { [`${PROJECT}_default`]: {} } },
  };
  change(c);
  return c;
}

const rules: AuditRules = {
  allowedCaps: ['NET_ADMIN', 'NET_BIND_SERVICE'],
  appsDir: '/srv/apps',
  projectOf: (ref) => ({ sibling: PROJECT, stranger: OTHER })[ref],
};

describe('auditContainer', () => {
  it('passes an app container within the policy (own volumes, a tmpfs, allowed caps, its own network)', () => {
    expect(auditContainer(container(), rules)).toEqual([]);
  });

  it('passes a read-only bind of a file inside the app folder and a namespace shared with a sibling service', () => {
    const c = container((c) => {
      c.Mounts.push({
        Type: 'bind',
        Source: `/srv/apps/${INSTANCE}/config.json`,
        Destination: '/config.json',
        Mode: 'ro',
        RW: false,
        Propagation: '',
      });
      c.HostConfig.NetworkMode = 'container:sibling';
      c.HostConfig.PidMode = 'container:sibling';
      c.NetworkSettings.Networks = {};
    });
    expect(auditContainer(c, rules)).toEqual([]);
  });

  const outside: Array<[string, (c: InspectedContainer) => void, string]> = [
    ['privileged', (c) => (c.HostConfig.Privileged = true), 'privileged: runs privileged'],
    ['host network', (c) => (c.HostConfig.NetworkMode = 'host'), "network_mode: host is not the project's own"],
    ['the engine default bridge', (c) => (c.HostConfig.NetworkMode = 'default'), "network_mode: default is not the project's own"],
    ["another app's network namespace", (c) => (c.HostConfig.NetworkMode = 'container:stranger'), 'network_mode: container:stranger'],
    ['host pid', (c) => (c.HostConfig.PidMode = 'host'), 'pid: host'],
    ['host ipc', (c) => (c.HostConfig.IpcMode = 'host'), 'ipc: host'],
    ['host uts', (c) => (c.HostConfig.UTSMode = 'host'), 'uts: host'],
    ['host userns', (c) => (c.HostConfig.UsernsMode = 'host'), 'userns_mode: host'],
    ['a capability beyond the allow-list', (c) => c.HostConfig.CapAdd!.push('CAP_SYS_ADMIN'), 'cap_add: SYS_ADMIN'],
    ['an unconfining security option', (c) => c.HostConfig.SecurityOpt!.push('label=type:spc_t'), 'security_opt: label=type:spc_t'],
    [
      'a device',
      (c) => (c.HostConfig.Devices = [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }]),
      'devices: /dev/sda',
    ],
    ['gpus', (c) => (c.HostConfig.DeviceRequests = [{ Count: -1 }]), 'devices: device requests (gpus)'],
    ['device cgroup rules', (c) => (c.HostConfig.DeviceCgroupRules = ['c 1:3 mr']), 'devices: cgroup rules c 1:3 mr'],
    ['another runtime', (c) => (c.HostConfig.Runtime = 'nvidia'), 'runtime: nvidia'],
    ['a cgroup parent', (c) => (c.HostConfig.CgroupParent = '/system.slice'), 'cgroup_parent: /system.slice'],
    ['volumes_from', (c) => (c.HostConfig.VolumesFrom = ['other']), 'volumes_from: other'],
    [
      'a writable bind inside the app folder',
      (c) =>
        c.Mounts.push({ Type: 'bind', Source: `/srv/apps/${INSTANCE}/data`, Destination: '/d', Mode: 'rw', RW: true, Propagation: '' }),
      `bind: writable /srv/apps/${INSTANCE}/data -> /d`,
    ],
    [
      'a read-only bind that climbs out of the app folder',
      (c) =>
        c.Mounts.push({
          Type: 'bind',
          Source: `/srv/apps/${INSTANCE}/../other`,
          Destination: '/d',
          Mode: 'ro',
          RW: false,
          Propagation: '',
        }),
      `bind: outside the app's folder /srv/apps/${INSTANCE}/../other -> /d`,
    ],
    [
      'the docker socket',
      (c) => c.Mounts.push({ Type: 'bind', Source: '/var/run/docker.sock', Destination: '/s', Mode: 'ro', RW: false, Propagation: '' }),
      'docker_socket: /var/run/docker.sock -> /s',
    ],
    [
      "another app's volume",
      (c) => c.Mounts.push({ Type: 'volume', Name: `${OTHER}-app`, Source: '', Destination: '/o', Mode: '', RW: true, Propagation: '' }),
      `volume: ${OTHER}-app is not the app's own`,
    ],
    ['an io.mosaic label', (c) => (c.Config.Labels!['io.mosaic.component'] = 'device'), 'label: io.mosaic.component'],
    [
      'a com.docker.compose label of its own',
      (c) => (c.Config.Labels!['com.docker.compose.project.x'] = 'y'),
      'label: com.docker.compose.project.x',
    ],
    ['a container_name', (c) => (c.Name = '/mosaic-device'), 'container_name: /mosaic-device'],
    ['an external network', (c) => (c.NetworkSettings.Networks!.mosaic_default = {}), "network: mosaic_default is not the project's own"],
  ];

  it.each(outside)('finds %s', (_label, change, finding) => {
    expect(auditContainer(container(change), rules)).toContain(finding);
  });

  it('finds a container that belongs to no Mosaic app at all', () => {
    const c = container((c) => delete c.Config.Labels!['com.docker.compose.project']);
    expect(auditContainer(c, rules)).toEqual(["project: not a Mosaic app's compose project (undefined)"]);
  });
});
