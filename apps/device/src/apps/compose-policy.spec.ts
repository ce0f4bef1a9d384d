import { parse as parseYaml } from 'yaml';
import { PolicyContext, PolicyViolation, checkComposePolicy, checkTemplateInputs, formatPath } from './compose-policy';

const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const OTHER = 'c232ab00-9414-11ec-b3c8-9f6bdeced846';
const DIR = `/apps/${INSTANCE}`;
const PROJECT = `mosaic-${INSTANCE}`;
const APP_VOLUME = `mosaic-${INSTANCE}-app`;
const LINK_VOLUME = `mosaic-${INSTANCE}-link`;

type Json = Record<string, unknown>;

function context(overrides: Partial<PolicyContext> = {}): PolicyContext {
  return { allowedCaps: ['NET_ADMIN', 'NET_BIND_SERVICE'], deviceVolumes: [APP_VOLUME, LINK_VOLUME], ...overrides };
}

const bind = (source: string, target = '/mnt') => ({ type: 'bind', source, target, bind: { create_host_path: true } });
const DEVICE_VOLUMES = { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true } };

/**
 * A clean project as `docker compose config --format json` prints it: an app and a db service,
 * the two device volumes (external), a project volume, a tmpfs, the default network.
 */
function project(app: Json = {}, top: Json = {}): Json {
  return {
    name: PROJECT,
    networks: { default: { name: `${PROJECT}_default`, ipam: {} } },
    services: {
      app: {
        command: null,
        entrypoint: null,
        image: 'ghcr.io/requarks/wiki:2.5',
        cap_add: ['NET_BIND_SERVICE'],
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
        networks: { default: null },
        depends_on: { db: { condition: 'service_started', required: true } },
        ports: [{ mode: 'ingress', host_ip: '127.0.0.1', target: 3000, protocol: 'tcp' }],
        volumes: [
          { type: 'volume', source: 'data', target: '/data', volume: {} },
          { type: 'volume', source: 'link', target: '/link', volume: {} },
          { type: 'tmpfs', target: '/tmp' },
        ],
        ...app,
      },
      db: {
        command: null,
        entrypoint: null,
        image: 'postgres:16',
        networks: { default: null },
        volumes: [{ type: 'volume', source: 'cache', target: '/var/lib/postgresql/data', volume: {} }],
      },
    },
    volumes: { ...DEVICE_VOLUMES, cache: { name: `${PROJECT}_cache` } },
    'x-mosaic': { commands: { version: { service: 'app', argv: ['wiki', '--version'] } } },
    ...top,
  };
}

/** `service:rule@path` of each violation, in order. */
const found = (violations: PolicyViolation[]) => violations.map((v) => `${v.service ? `${v.service}:` : ''}${v.rule}@${v.path}`);

describe('checkComposePolicy: the allow-list (docs/protocol.md §2.2)', () => {
  it('finds nothing to refuse in a clean project', () => {
    expect(checkComposePolicy(project(), context())).toEqual([]);
  });

  it('accepts every key on the allow-list, as Compose prints it', () => {
    const everything = project(
      {
        environment: { A: '1', B: null },
        working_dir: '/srv',
        user: '1000:1000',
        group_add: ['audio'],
        init: true,
        tty: false,
        stdin_open: false,
        read_only: true,
        restart: 'unless-stopped',
        stop_signal: 'SIGINT',
        stop_grace_period: '1s',
        healthcheck: {
          test: ['CMD', 'true'],
          interval: '5s',
          timeout: '1s',
          retries: 3,
          start_period: '1s',
          start_interval: '1s',
          disable: false,
        },
        depends_on: { db: { condition: 'service_healthy', required: true, restart: true } },
        profiles: ['web'],
        scale: 1,
        attach: true,
        platform: 'linux/amd64',
        pull_policy: 'missing',
        hostname: 'wiki',
        domainname: 'example.net',
        mac_address: '02:42:ac:11:65:43',
        dns: ['9.9.9.9'],
        dns_search: ['example.net'],
        dns_opt: ['ndots:1'],
        extra_hosts: ['db.local:10.0.0.2'],
        expose: ['3000'],
        ports: [
          { name: 'web', mode: 'ingress', host_ip: '127.0.0.1', target: 3000, published: '8080', protocol: 'tcp', app_protocol: 'http' },
        ],
        networks: { default: { aliases: ['wiki'], ipv4_address: '172.30.0.5', ipv6_address: 'fd00::5', priority: 10 } },
        network_mode: undefined,
        ipc: 'shareable',
        cgroup: 'private',
        labels: { 'org.example.team': 'wiki' },
        volumes: [
          { type: 'volume', source: 'data', target: '/data', read_only: false, volume: { nocopy: true } },
          { type: 'tmpfs', target: '/run', tmpfs: { size: 1048576, mode: 0o1777 } },
          { type: 'volume', target: '/anonymous', volume: {} },
        ],
        tmpfs: ['/cache'],
        configs: [{ source: 'conf', target: '/etc/app.ini', uid: '1000', gid: '1000', mode: 0o444 }],
        secrets: [{ source: 'key', target: '/run/secrets/key', mode: 0o400 }],
        cap_add: ['NET_ADMIN', 'cap_net_bind_service'],
        cap_drop: ['ALL'],
        security_opt: [
          'no-new-privileges',
          'no-new-privileges=true',
          'apparmor=docker-default',
          'seccomp:builtin',
          'label=type:container_t',
        ],
        privileged: false,
        post_start: [
          { command: ['chown', '-R', 'app', '/data'], user: 'root', working_dir: '/', environment: { A: '1' }, privileged: false },
        ],
        pre_stop: [{ command: ['sync'] }],
        ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 512 },
        sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
        shm_size: '64m',
        mem_limit: '512m',
        mem_reservation: '256m',
        memswap_limit: '1g',
        mem_swappiness: 0,
        cpus: 1.5,
        cpu_shares: 512,
        cpu_quota: 50000,
        cpu_period: 100000,
        cpuset: '0',
        pids_limit: 200,
        logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
        deploy: {
          replicas: 1,
          restart_policy: { condition: 'on-failure', delay: '5s', max_attempts: 3, window: '1m' },
          resources: { limits: { cpus: '1', memory: '512M', pids: 100 }, reservations: { cpus: '0.5', memory: '128M' } },
          placement: {},
        },
      },
      {
        networks: {
          default: { name: `${PROJECT}_default`, ipam: {} },
          back: { name: `${PROJECT}_back`, driver: 'bridge', internal: true, labels: { 'org.example.tier': 'back' }, ipam: {} },
        },
        volumes: { ...DEVICE_VOLUMES, cache: { name: `${PROJECT}_cache`, driver: 'local', labels: { 'org.example.kind': 'cache' } } },
        configs: { conf: { name: `${PROJECT}_conf`, content: '[app]\n' } },
        secrets: { key: { name: `${PROJECT}_key`, environment: 'LINK_TOKEN_DEFAULT' } },
        'x-base': { restart: 'always' },
      },
    );
    expect(checkComposePolicy(everything, context())).toEqual([]);
  });

  describe('refuses every key not on the allow-list, by its path', () => {
    // A key a newer Compose learns is refused until someone reviews it and adds it to the list.
    const cases: Array<[path: string, app: Json, top: Json]> = [
      ['services.app.annotations', { annotations: { 'io.kubernetes.cri-o.Devices': '/dev/fuse' } }, {}],
      ['services.app.oom_score_adj', { oom_score_adj: -1000 }, {}],
      ['services.app.oom_kill_disable', { oom_kill_disable: true }, {}],
      ['services.app.isolation', { isolation: 'hyperv' }, {}],
      ['services.app.storage_opt', { storage_opt: { size: '1G' } }, {}],
      ['services.app.blkio_config', { blkio_config: { device_read_bps: [{ path: '/dev/sda', rate: '1mb' }] } }, {}],
      ['services.app.credential_spec', { credential_spec: { file: 'x.json' } }, {}],
      ['services.app.develop', { develop: { watch: [{ action: 'sync', path: '.', target: '/' }] } }, {}],
      ['services.app.x-anything', { 'x-anything': 1 }, {}],
      ['services.app.deploy.labels', { deploy: { labels: { a: 'b' }, placement: {} } }, {}],
      ['services.app.deploy.placement.constraints', { deploy: { placement: { constraints: ['node.role==manager'] } } }, {}],
      ['services.app.healthcheck.exec', { healthcheck: { test: ['CMD', 'true'], exec: 'x' } }, {}],
      ['services.app.ports[0].host_port_range', { ports: [{ target: 80, host_port_range: '1-65535' }] }, {}],
      ['services.app.networks.default.link_local_ips', { networks: { default: { link_local_ips: ['169.254.1.1'] } } }, {}],
      [
        'services.app.networks.default.driver_opts',
        { networks: { default: { driver_opts: { 'com.docker.network.endpoint.sysctls': 'x' } } } },
        {},
      ],
      [
        'services.app.volumes[0].volume.subpath',
        { volumes: [{ type: 'volume', source: 'data', target: '/data', volume: { subpath: '../..' } }] },
        {},
      ],
      [
        'services.app.configs[0].external',
        { configs: [{ source: 'conf', external: true }] },
        { configs: { conf: { name: 'c', content: 'x' } } },
      ],
      ['services.app.post_start[0].privileged_mode', { post_start: [{ command: ['id'], privileged_mode: true }] }, {}],
      ['services.app.logging.tag', { logging: { driver: 'json-file', tag: 'x' } }, {}],
      [
        'networks.default.driver_opts',
        {},
        {
          networks: { default: { name: `${PROJECT}_default`, driver_opts: { 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0' } } },
        },
      ],
      [
        'networks.default.ipam.config',
        {},
        { networks: { default: { name: `${PROJECT}_default`, ipam: { config: [{ subnet: '192.168.1.0/24' }] } } } },
      ],
      ['networks.default.enable_ipv6', {}, { networks: { default: { name: `${PROJECT}_default`, enable_ipv6: true } } }],
      ['networks.default.attachable', {}, { networks: { default: { name: `${PROJECT}_default`, attachable: true } } }],
      ['configs.conf.external', { configs: [{ source: 'conf' }] }, { configs: { conf: { name: 'conf', external: true } } }],
      [
        'secrets.key.template_driver',
        { secrets: [{ source: 'key' }] },
        { secrets: { key: { name: 'k', content: 'x', template_driver: 'golang' } } },
      ],
      ['models', {}, { models: { llm: { model: 'ai/smollm2' } } }],
      ['include', {}, { include: [{ path: ['/etc/compose.yaml'] }] }],
    ];

    it.each(cases)('%s', (path, app, top) => {
      const violations = checkComposePolicy(project(app, top), context());
      expect(violations).toEqual([expect.objectContaining({ rule: 'not_allowed', path })]);
      expect(violations[0].message).toMatch(new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}: .*allow-list`));
    });

    it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('refuses a key named like an Object property: %s', (key) => {
      const p = project();
      // As JSON.parse makes it: an own key, even for __proto__.
      const service = JSON.parse(JSON.stringify((p.services as Json).app).replace(/^\{/, `{"${key}": {"privileged": true},`)) as Json;
      (p.services as Json).app = service;
      expect(found(checkComposePolicy(p, context()))).toEqual([`app:not_allowed@services.app.${key}`]);
    });

    it('names the service of a refused service key', () => {
      expect(checkComposePolicy(project({ annotations: { a: 'b' } }), context())).toEqual([
        { service: 'app', rule: 'not_allowed', path: 'services.app.annotations', message: expect.any(String) },
      ]);
    });

    it('refuses a known key in a form Compose does not print', () => {
      expect(found(checkComposePolicy(project({ ports: 'everything', depends_on: ['db'] }), context()))).toEqual([
        'app:not_allowed@services.app.depends_on',
        'app:not_allowed@services.app.ports',
      ]);
    });
  });

  describe('refuses what §2.2 names, with its rule', () => {
    // Each case changes the clean project in one place and expects exactly the violations listed.
    const cases: Array<[label: string, app: Json, top: Json, expected: string[]]> = [
      ['privileged', { privileged: true }, {}, ['app:privileged@services.app.privileged']],
      ['network_mode: host', { network_mode: 'host' }, {}, ['app:network_mode@services.app.network_mode']],
      [
        'network_mode: bridge (the engine’s default network, shared with others)',
        { network_mode: 'bridge' },
        {},
        ['app:network_mode@services.app.network_mode'],
      ],
      [
        'network_mode of a service that is not the app’s',
        { network_mode: 'service:portainer' },
        {},
        ['app:network_mode@services.app.network_mode'],
      ],
      ['pid: host', { pid: 'host' }, {}, ['app:pid@services.app.pid']],
      ['ipc: host', { ipc: 'host' }, {}, ['app:ipc@services.app.ipc']],
      ['uts: host', { uts: 'host' }, {}, ['app:uts@services.app.uts']],
      ['userns_mode: host', { userns_mode: 'host' }, {}, ['app:userns_mode@services.app.userns_mode']],
      ['cgroup: host', { cgroup: 'host' }, {}, ['app:cgroup@services.app.cgroup']],
      ['network_mode: container:x', { network_mode: 'container:portainer' }, {}, ['app:network_mode@services.app.network_mode']],
      ['pid: container:x', { pid: 'container:portainer' }, {}, ['app:pid@services.app.pid']],
      ['ipc: container:x', { ipc: 'container:portainer' }, {}, ['app:ipc@services.app.ipc']],
      [
        'devices',
        { devices: [{ source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' }] },
        {},
        ['app:devices@services.app.devices'],
      ],
      ['device_cgroup_rules', { device_cgroup_rules: ['c 1:3 mr'] }, {}, ['app:devices@services.app.device_cgroup_rules']],
      ['gpus', { gpus: [{ count: -1 }] }, {}, ['app:devices@services.app.gpus']],
      [
        'devices reserved through deploy',
        { deploy: { resources: { reservations: { devices: [{ capabilities: ['gpu'], driver: 'nvidia', count: -1 }] } }, placement: {} } },
        {},
        ['app:devices@services.app.deploy.resources.reservations.devices'],
      ],
      ['runtime', { runtime: 'nvidia' }, {}, ['app:runtime@services.app.runtime']],
      [
        'use_api_socket (Compose 2.35 mounts the engine’s socket)',
        { use_api_socket: true },
        {},
        ['app:docker_socket@services.app.use_api_socket'],
      ],
      ['cgroup_parent', { cgroup_parent: 'system.slice' }, {}, ['app:cgroup_parent@services.app.cgroup_parent']],
      ['container_name', { container_name: 'mosaic-storage-plugin' }, {}, ['app:container_name@services.app.container_name']],
      ['cap_add outside ALLOWED_CAPS', { cap_add: ['SYS_ADMIN'] }, {}, ['app:cap_add@services.app.cap_add[0]']],
      ['cap_add with the CAP_ prefix', { cap_add: ['NET_ADMIN', 'CAP_SYS_ADMIN'] }, {}, ['app:cap_add@services.app.cap_add[1]']],
      ['cap_add in lower case', { cap_add: ['sys_ptrace'] }, {}, ['app:cap_add@services.app.cap_add[0]']],
      ['cap_add ALL', { cap_add: ['ALL'] }, {}, ['app:cap_add@services.app.cap_add[0]']],
      ['security_opt seccomp=unconfined', { security_opt: ['seccomp=unconfined'] }, {}, ['app:security_opt@services.app.security_opt[0]']],
      ['security_opt seccomp:unconfined', { security_opt: ['seccomp:unconfined'] }, {}, ['app:security_opt@services.app.security_opt[0]']],
      [
        'security_opt apparmor=unconfined',
        { security_opt: ['apparmor=unconfined'] },
        {},
        ['app:security_opt@services.app.security_opt[0]'],
      ],
      [
        'security_opt systempaths=unconfined',
        { security_opt: ['systempaths=unconfined'] },
        {},
        ['app:security_opt@services.app.security_opt[0]'],
      ],
      [
        'security_opt label=disable (SELinux off)',
        { security_opt: ['label=disable'] },
        {},
        ['app:security_opt@services.app.security_opt[0]'],
      ],
      [
        'security_opt label=type:spc_t (an unconfined SELinux type)',
        { security_opt: ['label=type:spc_t'] },
        {},
        ['app:security_opt@services.app.security_opt[0]'],
      ],
      [
        'security_opt label=level (another container’s MCS category)',
        { security_opt: ['label=level:s0:c100,c200'] },
        {},
        ['app:security_opt@services.app.security_opt[0]'],
      ],
      [
        'a seccomp profile read from a host file',
        { security_opt: ['seccomp=/etc/profile.json'] },
        {},
        ['app:security_opt@services.app.security_opt[0]'],
      ],
      ['volumes_from', { volumes_from: ['container:portainer'] }, {}, ['app:volumes_from@services.app.volumes_from']],
      ['build', { build: { context: DIR } }, {}, ['app:build@services.app.build']],
      ['pull_policy: build', { pull_policy: 'build' }, {}, ['app:build@services.app.pull_policy']],
      [
        'a privileged post_start hook',
        { post_start: [{ command: ['id'], privileged: true }] },
        {},
        ['app:privileged@services.app.post_start[0].privileged'],
      ],
      [
        'a privileged pre_stop hook',
        { pre_stop: [{ command: ['id'], privileged: true }] },
        {},
        ['app:privileged@services.app.pre_stop[0].privileged'],
      ],
      [
        'a provider service (a program Compose runs on the host)',
        { provider: { type: 'model', options: { model: 'x' } } },
        {},
        ['app:provider@services.app.provider'],
      ],
      ['external_links', { external_links: ['portainer:p'] }, {}, ['app:network@services.app.external_links']],
      [
        'a log driver that sends logs elsewhere',
        { logging: { driver: 'syslog', options: { 'syslog-address': 'tcp://10.0.0.1:514' } } },
        {},
        ['app:logging@services.app.logging.driver'],
      ],
      [
        'a named pipe',
        { volumes: [{ type: 'npipe', source: '\\\\.\\pipe\\docker_engine', target: '\\\\.\\pipe\\docker_engine' }] },
        {},
        ['app:host_path@services.app.volumes[0]'],
      ],
      ['an image mount', { volumes: [{ type: 'image', source: 'alpine', target: '/img' }] }, {}, ['app:volume@services.app.volumes[0]']],
      [
        'an undeclared volume',
        { volumes: [{ type: 'volume', source: 'ghost', target: '/g', volume: {} }] },
        {},
        ['app:volume@services.app.volumes[0]'],
      ],
      [
        'an external volume of another instance',
        {},
        { volumes: { ...DEVICE_VOLUMES, cache: { name: `mosaic-${OTHER}-app`, external: true } } },
        ['external_volume@volumes.cache'],
      ],
      [
        'an external volume of another program',
        {},
        { volumes: { ...DEVICE_VOLUMES, cache: { name: 'portainer_data', external: true } } },
        ['external_volume@volumes.cache'],
      ],
      [
        // Compose only warns and then mounts an existing volume of that name.
        'a project volume named like another instance’s volume',
        {},
        { volumes: { ...DEVICE_VOLUMES, cache: { name: `mosaic-${OTHER}-app` } } },
        ['external_volume@volumes.cache'],
      ],
      [
        'a volume of another driver',
        {},
        { volumes: { ...DEVICE_VOLUMES, cache: { name: `${PROJECT}_cache`, driver: 'sshfs' } } },
        ['volume@volumes.cache'],
      ],
    ];

    it.each(cases)('refuses %s', (_label, app, top, expected) => {
      expect(found(checkComposePolicy(project(app, top), context()))).toEqual(expected);
    });
  });

  describe('networks: the project’s own bridge networks only', () => {
    const network = (entry: Json) => ({ networks: { default: { name: `${PROJECT}_default`, ipam: {} }, lan: entry } });
    const cases: Array<[label: string, entry: Json]> = [
      ['an external network (beside the Hive and the Device)', { name: 'mosaic_default', external: true }],
      ['the host’s network, joined as an external network', { name: 'host', external: true }],
      ['the host’s network, by name', { name: 'host', ipam: {} }],
      ['the engine’s default bridge, by name', { name: 'bridge', ipam: {} }],
      ['another project’s network, by name', { name: `mosaic-${OTHER}_default`, ipam: {} }],
      ['macvlan', { name: `${PROJECT}_lan`, driver: 'macvlan', ipam: {} }],
      ['ipvlan', { name: `${PROJECT}_lan`, driver: 'ipvlan', ipam: {} }],
      ['overlay', { name: `${PROJECT}_lan`, driver: 'overlay', ipam: {} }],
      ['the host driver', { name: `${PROJECT}_lan`, driver: 'host', ipam: {} }],
    ];

    it.each(cases)('refuses %s', (_label, entry) => {
      const violations = checkComposePolicy(project({ networks: { default: null, lan: null } }, network(entry)), context());
      expect(found(violations)).toEqual(['network@networks.lan']);
    });

    it('accepts an internal bridge of the project', () => {
      const top = network({ name: `${PROJECT}_lan`, driver: 'bridge', internal: true, ipam: {} });
      expect(checkComposePolicy(project({ networks: { default: null, lan: null } }, top), context())).toEqual([]);
    });
  });

  describe('labels: none that Compose or Mosaic read', () => {
    it.each([
      ['io.mosaic.component', 'services.app.labels["io.mosaic.component"]'],
      ['io.mosaic.storage-driver', 'services.app.labels["io.mosaic.storage-driver"]'],
      ['IO.Mosaic.Component', 'services.app.labels["IO.Mosaic.Component"]'],
      ['com.docker.compose.project', 'services.app.labels["com.docker.compose.project"]'],
      ['com.docker.compose.service', 'services.app.labels["com.docker.compose.service"]'],
    ])('refuses a service label %s', (name, path) => {
      expect(found(checkComposePolicy(project({ labels: { [name]: 'x', 'org.example.ok': 'y' } }), context()))).toEqual([
        `app:label@${path}`,
      ]);
    });

    it('refuses them on networks and volumes too', () => {
      const top = {
        networks: { default: { name: `${PROJECT}_default`, ipam: {}, labels: { 'com.docker.compose.network': 'other' } } },
        volumes: { ...DEVICE_VOLUMES, cache: { name: `${PROJECT}_cache`, labels: { 'io.mosaic.role': 'app' } } },
      };
      expect(found(checkComposePolicy(project({}, top), context()))).toEqual([
        'label@networks.default.labels["com.docker.compose.network"]',
        'label@volumes.cache.labels["io.mosaic.role"]',
      ]);
    });
  });

  describe('host paths: none at all', () => {
    const cases: Array<[label: string, source: string, rule: string]> = [
      ['/etc', '/etc', 'host_path'],
      ['the home folder', '/root/.ssh', 'host_path'],
      // Even below the app's own folder: an app that may write there can plant a symlink that a later bind follows.
      ['a folder below the instance folder', `${DIR}/data`, 'host_path'],
      ['the instance folder itself', DIR, 'host_path'],
      ['the device’s compose.yaml, read-only', `${DIR}/compose.yaml`, 'host_path'],
      ['/var/run/docker.sock', '/var/run/docker.sock', 'docker_socket'],
      ['/run/docker.sock', '/run/docker.sock', 'docker_socket'],
      ['a rootless engine’s socket', '/run/user/1000/docker.sock', 'docker_socket'],
      ['the folder /var/run that holds it', '/var/run', 'docker_socket'],
      ['the folder /run that holds it', '/run', 'docker_socket'],
      ['the whole host', '/', 'docker_socket'],
      ['the engine’s plugin sockets', '/run/docker/plugins', 'docker_socket'],
      ['the engine’s state', '/var/lib/docker', 'docker_socket'],
      ['containerd’s socket', '/run/containerd/containerd.sock', 'docker_socket'],
    ];

    it.each(cases)('refuses a bind mount of %s', (_label, source, rule) => {
      const violations = checkComposePolicy(project({ volumes: [bind(source, '/mnt')] }), context());
      expect(violations).toEqual([{ service: 'app', rule, path: 'services.app.volumes[0]', message: expect.stringContaining(source) }]);
    });

    it('refuses a read-only bind as well', () => {
      expect(found(checkComposePolicy(project({ volumes: [{ ...bind(`${DIR}/conf`), read_only: true }] }), context()))).toEqual([
        'app:host_path@services.app.volumes[0]',
      ]);
    });

    it.each([
      ['a folder of the app', { type: 'none', o: 'bind', device: `${DIR}/cache` }, 'host_path'],
      ['/home', { type: 'none', o: 'bind', device: '/home' }, 'host_path'],
      ['the Docker socket', { type: 'none', o: 'bind', device: '/var/run/docker.sock' }, 'docker_socket'],
      ['a block device', { type: 'ext4', device: '/dev/sda1' }, 'host_path'],
      ['a network share', { type: 'nfs', o: 'addr=10.0.0.1', device: ':/export' }, 'host_path'],
    ])('refuses volume driver_opts that mount %s', (_label, opts, rule) => {
      const top = { volumes: { ...DEVICE_VOLUMES, cache: { name: `${PROJECT}_cache`, driver: 'local', driver_opts: opts } } };
      expect(found(checkComposePolicy(project({}, top), context()))).toEqual([`${rule}@volumes.cache.driver_opts`]);
    });

    it.each(['configs', 'secrets'])('refuses %s read from any file, and says to give the content', (section) => {
      for (const [file, rule] of [
        [`${DIR}/conf/app.ini`, 'host_path'],
        ['/etc/shadow', 'host_path'],
        ['/var/run/docker.sock', 'docker_socket'],
      ]) {
        const p = project({ [section]: [{ source: 'x' }] }, { [section]: { x: { name: `${PROJECT}_x`, file } } });
        const violations = checkComposePolicy(p, context());
        expect(found(violations)).toEqual([`${rule}@${section}.x.file`]);
        if (rule === 'host_path') expect(violations[0].message).toContain('content:');
      }
    });
  });

  describe('what stays allowed', () => {
    const cases: Array<[label: string, app: Json]> = [
      ['network_mode of another service of the app', { network_mode: 'service:db' }],
      ['network_mode none', { network_mode: 'none' }],
      ['pid of another service of the app', { pid: 'service:db' }],
      ['ipc shareable', { ipc: 'shareable' }],
      ['ipc of another service of the app', { ipc: 'service:db' }],
      ['privileged: false', { privileged: false }],
      ['an allowed capability', { cap_add: ['NET_ADMIN'] }],
      ['an allowed capability with the CAP_ prefix, lower case', { cap_add: ['cap_net_bind_service'] }],
      ['the default seccomp profile named', { security_opt: ['seccomp=default'] }],
      ['an anonymous volume', { volumes: [{ type: 'volume', target: '/anon', volume: {} }] }],
      ['labels of the app’s own', { labels: { 'org.opencontainers.image.title': 'wiki', mosaic: 'not reserved' } }],
    ];

    it.each(cases)('accepts %s', (_label, app) => {
      expect(checkComposePolicy(project(app), context())).toEqual([]);
    });

    it('accepts a project volume named by the project itself', () => {
      const top = { volumes: { ...DEVICE_VOLUMES, cache: { name: `${PROJECT}_pg` } } };
      expect(checkComposePolicy(project({}, top), context())).toEqual([]);
    });

    it('accepts x- extensions at the top level (anchors, x-mosaic)', () => {
      expect(checkComposePolicy(project({}, { 'x-defaults': { restart: 'always' }, 'x-mosaic': {} }), context())).toEqual([]);
    });

    it('checks capabilities against the configured ALLOWED_CAPS', () => {
      const p = project({ cap_add: ['NET_ADMIN', 'SYS_TIME'] });
      expect(found(checkComposePolicy(p, context({ allowedCaps: ['SYS_TIME'] })))).toEqual(['app:cap_add@services.app.cap_add[0]']);
      expect(found(checkComposePolicy(p, context({ allowedCaps: [] })))).toEqual([
        'app:cap_add@services.app.cap_add[0]',
        'app:cap_add@services.app.cap_add[1]',
      ]);
      expect(checkComposePolicy(p, context({ allowedCaps: ['NET_ADMIN', 'SYS_TIME'] }))).toEqual([]);
    });
  });

  it('lists every violation of a project at once', () => {
    const p = project(
      {
        privileged: true,
        network_mode: 'host',
        cap_add: ['SYS_ADMIN', 'NET_ADMIN'],
        security_opt: ['apparmor:unconfined'],
        use_api_socket: true,
        volumes: [bind('/etc'), bind('/var/run/docker.sock'), { type: 'volume', source: 'data', target: '/data' }],
      },
      { volumes: { ...DEVICE_VOLUMES, cache: { name: 'portainer_data', external: true } } },
    );
    (p.services as Json).db = {
      image: 'postgres:16',
      build: { context: DIR },
      volumes_from: ['app'],
      devices: [{ source: '/dev/mem', target: '/dev/mem', permissions: 'rwm' }],
    };
    expect(found(checkComposePolicy(p, context())).sort()).toEqual(
      [
        'external_volume@volumes.cache',
        'app:privileged@services.app.privileged',
        'app:network_mode@services.app.network_mode',
        'app:cap_add@services.app.cap_add[0]',
        'app:security_opt@services.app.security_opt[0]',
        'app:docker_socket@services.app.use_api_socket',
        'app:host_path@services.app.volumes[0]',
        'app:docker_socket@services.app.volumes[1]',
        'db:build@services.db.build',
        'db:volumes_from@services.db.volumes_from',
        'db:devices@services.db.devices',
      ].sort(),
    );
  });

  it('gives each violation its path and a human message that starts with it', () => {
    const violations = checkComposePolicy(project({ privileged: true, cap_add: ['SYS_ADMIN'] }), context());
    expect(violations).toEqual([
      {
        service: 'app',
        rule: 'cap_add',
        path: 'services.app.cap_add[0]',
        message: expect.stringMatching(/^services\.app\.cap_add\[0\]: .*SYS_ADMIN.*NET_ADMIN, NET_BIND_SERVICE/),
      },
      { service: 'app', rule: 'privileged', path: 'services.app.privileged', message: 'services.app.privileged: asks to run privileged' },
    ]);
  });
});

describe('formatPath', () => {
  it.each([
    [['services', 'web', 'volumes', 1], 'services.web.volumes[1]'],
    [['services', 'web', 'labels', 'io.mosaic.component'], 'services.web.labels["io.mosaic.component"]'],
    [['services', 'my.app', 'image'], 'services["my.app"].image'],
    [['x-mosaic'], 'x-mosaic'],
    [['services', 'web', 'environment', 'A "quoted" key'], 'services.web.environment["A \\"quoted\\" key"]'],
  ])('%j → %s', (segments, text) => {
    expect(formatPath(segments as Array<string | number>)).toBe(text);
  });
});

describe('checkTemplateInputs (what Compose would read from the host)', () => {
  const rules = (violations: PolicyViolation[]) => violations.map((v) => (v.service ? `${v.service}:${v.rule}` : v.rule));
  /** Parsed as AppLifecycleService parses a template. */
  const template = (yaml: string): Json => parseYaml(yaml, { maxAliasCount: 100, uniqueKeys: true }) as Json;

  const refused: Array<[label: string, yaml: string, expected: string[]]> = [
    ['include', 'include: [/etc/compose.yaml]\nservices:\n  app: { image: x }', ['include']],
    ['include of a remote file', 'include:\n  - path: ../other/compose.yaml\nservices:\n  app: { image: x }', ['include']],
    ['env_file as a string', 'services:\n  app: { image: x, env_file: /etc/environment }', ['app:env_file']],
    ['env_file as a list', 'services:\n  app: { image: x, env_file: [a.env, /etc/os-release] }', ['app:env_file']],
    [
      'env_file as objects',
      'services:\n  app:\n    image: x\n    env_file:\n      - path: /etc/os-release\n        required: false',
      ['app:env_file'],
    ],
    ['label_file', 'services:\n  app: { image: x, label_file: /etc/labels }', ['app:label_file']],
    ['extends with a file', 'services:\n  app:\n    image: x\n    extends: { file: /etc/base.yaml, service: base }', ['app:extends']],
    [
      'env_file smuggled in through a YAML merge key',
      'x-base: &base\n  env_file: [/etc/os-release]\nservices:\n  app:\n    <<: *base\n    image: x',
      ['app:env_file'],
    ],
    [
      'extends with a file through a merge key list',
      'x-a: &a { restart: always }\nx-b: &b { extends: { file: ../x.yaml, service: s } }\nservices:\n  app:\n    <<: [*a, *b]\n    image: x',
      ['app:extends'],
    ],
    [
      'a whole service merged into the services map',
      'x-more: &more\n  evil: { image: x, label_file: /etc/labels }\nservices:\n  <<: *more\n  app: { image: x }',
      ['evil:label_file'],
    ],
    [
      'include merged in at the top level',
      'x-inc: &inc { include: [/etc/compose.yaml] }\n<<: *inc\nservices:\n  app: { image: x }',
      ['include'],
    ],
  ];

  it.each(refused)('refuses %s', (_label, yaml, expected) => {
    expect(rules(checkTemplateInputs(template(yaml)))).toEqual(expected);
  });

  const allowed: Array<[label: string, yaml: string]> = [
    ['a template that reads nothing from the host', 'services:\n  app:\n    image: x\n    environment: { A: "${ADMIN_EMAIL}" }'],
    ['extends by service name', 'services:\n  base: { image: x }\n  app:\n    extends: { service: base }'],
    ['extends by service name, short form', 'services:\n  base: { image: x }\n  app:\n    extends: base'],
    ['a merge key that adds harmless settings', 'x-base: &base { restart: always }\nservices:\n  app:\n    <<: *base\n    image: x'],
  ];

  it.each(allowed)('accepts %s', (_label, yaml) => {
    expect(checkTemplateInputs(template(yaml))).toEqual([]);
  });

  it('lists every host read at once', () => {
    const doc = template(
      'include: [a.yaml]\nservices:\n  app:\n    image: x\n    env_file: .env\n    label_file: l\n  worker:\n    extends: { file: b.yaml, service: w }',
    );
    expect(rules(checkTemplateInputs(doc))).toEqual(['include', 'app:env_file', 'app:label_file', 'worker:extends']);
  });
});
