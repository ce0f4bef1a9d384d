import { parse as parseYaml } from 'yaml';
import { PolicyContext, PolicyViolation, checkComposePolicy, checkTemplateInputs } from './compose-policy';

const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const OTHER = 'c232ab00-9414-11ec-b3c8-9f6bdeced846';
const DIR = `/apps/${INSTANCE}`;
const PROJECT = `mosaic-${INSTANCE}`;
const APP_VOLUME = `mosaic-${INSTANCE}-app`;
const LINK_VOLUME = `mosaic-${INSTANCE}-link`;

type Json = Record<string, unknown>;

function context(overrides: Partial<PolicyContext> = {}): PolicyContext {
  return {
    instanceDir: DIR,
    allowedCaps: ['NET_ADMIN', 'NET_BIND_SERVICE'],
    deviceVolumes: [APP_VOLUME, LINK_VOLUME],
    realPath: (path) => path,
    ...overrides,
  };
}

/** A realPath that knows a few symlinks (what AppFilesAdapter.realPath finds on disk). */
function symlinks(links: Record<string, string>): (path: string) => string {
  return (path) => links[path] ?? path;
}

const bind = (source: string, target = '/mnt') => ({ type: 'bind', source, target, bind: { create_host_path: true } });

/**
 * A clean project as `docker compose config --format json` prints it: an app and a db service,
 * the two device volumes (external), a project volume, a bind mount below the instance folder.
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
        volumes: [
          { type: 'volume', source: 'data', target: '/data', volume: {} },
          { type: 'volume', source: 'link', target: '/link', volume: {} },
          bind(`${DIR}/config`, '/config'),
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
    volumes: {
      data: { name: APP_VOLUME, external: true },
      link: { name: LINK_VOLUME, external: true },
      cache: { name: `${PROJECT}_cache` },
    },
    ...top,
  };
}

const rules = (violations: PolicyViolation[]) => violations.map((v) => (v.service ? `${v.service}:${v.rule}` : v.rule));

describe('checkComposePolicy (docs/protocol.md §2.2)', () => {
  it('finds nothing to refuse in a clean project', () => {
    expect(checkComposePolicy(project(), context())).toEqual([]);
  });

  describe('one violation per rule', () => {
    // Each case changes the clean project in one place and expects exactly the violations listed.
    const cases: Array<[label: string, app: Json, top: Json, expected: string[]]> = [
      ['privileged', { privileged: true }, {}, ['app:privileged']],
      ['network_mode: host', { network_mode: 'host' }, {}, ['app:network_mode']],
      ['pid: host', { pid: 'host' }, {}, ['app:pid']],
      ['ipc: host', { ipc: 'host' }, {}, ['app:ipc']],
      ['uts: host', { uts: 'host' }, {}, ['app:uts']],
      ['userns_mode: host', { userns_mode: 'host' }, {}, ['app:userns_mode']],
      ['cgroup: host', { cgroup: 'host' }, {}, ['app:cgroup']],
      ['network_mode: container:x', { network_mode: 'container:portainer' }, {}, ['app:network_mode']],
      ['pid: container:x', { pid: 'container:portainer' }, {}, ['app:pid']],
      ['ipc: container:x', { ipc: 'container:portainer' }, {}, ['app:ipc']],
      ['a host network joined as an external network', {}, { networks: { default: { name: 'host', ipam: {}, external: true } } }, ['network_mode']],
      ['a host network joined by name', {}, { networks: { default: { name: 'host', ipam: {} } } }, ['network_mode']],
      ['devices', { devices: [{ source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' }] }, {}, ['app:devices']],
      ['device_cgroup_rules', { device_cgroup_rules: ['c 1:3 mr'] }, {}, ['app:devices']],
      ['cgroup_parent', { cgroup_parent: 'system.slice' }, {}, ['app:cgroup_parent']],
      ['cap_add outside ALLOWED_CAPS', { cap_add: ['SYS_ADMIN'] }, {}, ['app:cap_add']],
      ['cap_add with the CAP_ prefix', { cap_add: ['CAP_SYS_ADMIN'] }, {}, ['app:cap_add']],
      ['cap_add in lower case', { cap_add: ['sys_ptrace'] }, {}, ['app:cap_add']],
      ['cap_add ALL', { cap_add: ['ALL'] }, {}, ['app:cap_add']],
      ['security_opt seccomp=unconfined', { security_opt: ['seccomp=unconfined'] }, {}, ['app:security_opt']],
      ['security_opt seccomp:unconfined', { security_opt: ['seccomp:unconfined'] }, {}, ['app:security_opt']],
      ['security_opt apparmor=unconfined', { security_opt: ['apparmor=unconfined'] }, {}, ['app:security_opt']],
      ['security_opt apparmor:unconfined', { security_opt: ['apparmor:unconfined'] }, {}, ['app:security_opt']],
      ['security_opt systempaths=unconfined', { security_opt: ['systempaths=unconfined'] }, {}, ['app:security_opt']],
      ['security_opt label=disable (SELinux off)', { security_opt: ['label=disable'] }, {}, ['app:security_opt']],
      ['security_opt label:disable', { security_opt: ['label:disable'] }, {}, ['app:security_opt']],
      ['a seccomp profile from a host file', { security_opt: ['seccomp=/etc/weak.json'] }, {}, ['app:security_opt']],
      ['volumes_from a service', { volumes_from: ['db'] }, {}, ['app:volumes_from']],
      ['volumes_from a container', { volumes_from: ['container:portainer'] }, {}, ['app:volumes_from']],
      ['build', { build: { context: DIR, dockerfile: 'Dockerfile' } }, {}, ['app:build']],
      ['a privileged post_start hook', { post_start: [{ command: ['id'], privileged: true }] }, {}, ['app:privileged']],
      ['a privileged pre_stop hook', { pre_stop: [{ command: ['id'], privileged: true }] }, {}, ['app:privileged']],
      ['a provider service (a program Compose runs on the host)', { provider: { type: 'model', options: { model: 'x' } } }, {}, ['app:provider']],
      [
        'a named pipe',
        { volumes: [{ type: 'npipe', source: '\\\\.\\pipe\\docker_engine', target: '\\\\.\\pipe\\docker_engine' }] },
        {},
        ['app:host_path'],
      ],
      ['an undeclared volume', { volumes: [{ type: 'volume', source: 'ghost', target: '/g', volume: {} }] }, {}, ['app:volume']],
      [
        'an external volume of another instance',
        {},
        { volumes: { data: { name: `mosaic-${OTHER}-app`, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: `${PROJECT}_cache` } } },
        ['external_volume'],
      ],
      [
        'an external volume of another program',
        {},
        { volumes: { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: 'portainer_data', external: true } } },
        ['external_volume'],
      ],
      [
        // Compose only warns and then mounts an existing volume of that name.
        'a project volume named like another instance’s volume',
        {},
        { volumes: { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: `mosaic-${OTHER}-app` } } },
        ['external_volume'],
      ],
    ];

    it.each(cases)('refuses %s', (_label, app, top, expected) => {
      expect(rules(checkComposePolicy(project(app, top), context()))).toEqual(expected);
    });
  });

  describe('what stays allowed', () => {
    const cases: Array<[label: string, app: Json]> = [
      ['network_mode of another service of the app', { network_mode: 'service:db' }],
      ['network_mode none', { network_mode: 'none' }],
      ['ipc shareable', { ipc: 'shareable' }],
      ['privileged: false', { privileged: false }],
      ['an allowed capability', { cap_add: ['NET_ADMIN'] }],
      ['an allowed capability with the CAP_ prefix, lower case', { cap_add: ['cap_net_bind_service'] }],
      ['cap_drop ALL', { cap_drop: ['ALL'] }],
      ['a confining security_opt', { security_opt: ['no-new-privileges:true', 'label=type:container_t'] }],
      ['the default seccomp profile named', { security_opt: ['seccomp=default'] }],
      ['an unprivileged hook', { post_start: [{ command: ['chown', '-R', 'app', '/data'], user: 'root' }] }],
      ['a bind mount deep below the instance folder', { volumes: [bind(`${DIR}/data/uploads/2026`)] }],
      ['a folder whose name starts with two dots', { volumes: [bind(`${DIR}/..cache`)] }],
      ['an anonymous volume', { volumes: [{ type: 'volume', target: '/anon', volume: {} }] }],
    ];

    it.each(cases)('accepts %s', (_label, app) => {
      expect(checkComposePolicy(project(app), context())).toEqual([]);
    });

    it('accepts a project volume named by the project itself', () => {
      const top = { volumes: { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: `${PROJECT}_pg` } } };
      expect(checkComposePolicy(project({}, top), context())).toEqual([]);
    });

    it('checks capabilities against the configured ALLOWED_CAPS', () => {
      const p = project({ cap_add: ['NET_ADMIN', 'SYS_TIME'] });
      expect(rules(checkComposePolicy(p, context({ allowedCaps: ['SYS_TIME'] })))).toEqual(['app:cap_add']);
      expect(rules(checkComposePolicy(p, context({ allowedCaps: [] })))).toEqual(['app:cap_add', 'app:cap_add']);
      expect(checkComposePolicy(p, context({ allowedCaps: ['NET_ADMIN', 'SYS_TIME'] }))).toEqual([]);
    });

    it('accepts bind mounts when APPS_DIR itself sits behind a symlink', () => {
      // Compose prints the lexical path; the device resolved the instance folder and the source.
      const p = project({ volumes: [bind(`${DIR}/data`)] });
      const ctx = context({ instanceDir: `/srv/disk/apps/${INSTANCE}`, realPath: symlinks({ [`${DIR}/data`]: `/srv/disk/apps/${INSTANCE}/data` }) });
      expect(checkComposePolicy(p, ctx)).toEqual([]);
    });
  });

  describe('host paths', () => {
    const cases: Array<[label: string, source: string, links: Record<string, string>]> = [
      ['a bind mount of /etc', '/etc', {}],
      ['a bind mount of the home folder', '/root/.ssh', {}],
      ['a `..` escape', `${DIR}/../${OTHER}/data`, {}],
      ['a deeper `..` escape', `${DIR}/data/../../../etc`, {}],
      ['a sibling folder that shares the prefix', `/apps/${INSTANCE}-evil/data`, {}],
      ['APPS_DIR itself', '/apps', {}],
      ['a path inside whose symlink leads outside', `${DIR}/data/escape`, { [`${DIR}/data/escape`]: '/etc' }],
      ['a path inside whose symlinked parent leads outside', `${DIR}/data/escape/shadow`, { [`${DIR}/data/escape/shadow`]: '/etc/shadow' }],
      // The folder itself holds compose.yaml and mosaic.json: an app that can rewrite them would
      // be started from its own edited file at the next boot.
      ['the instance folder itself', DIR, {}],
      ['the instance folder with a trailing slash', `${DIR}/`, {}],
      ['the instance folder through a symlink', `${DIR}/data/up`, { [`${DIR}/data/up`]: DIR }],
      ['the device’s compose.yaml', `${DIR}/compose.yaml`, {}],
      ['the device’s mosaic.json', `${DIR}/mosaic.json`, {}],
      ['the device’s variables.json', `${DIR}/variables.json`, {}],
      ['the .env file Compose would read', `${DIR}/.env`, {}],
    ];

    it.each(cases)('refuses %s', (_label, source, links) => {
      const violations = checkComposePolicy(project({ volumes: [bind(source)] }), context({ realPath: symlinks(links) }));
      expect(violations).toEqual([{ service: 'app', rule: 'host_path', message: expect.stringContaining(source) }]);
    });

    it('names where a symlink really leads', () => {
      const ctx = context({ realPath: symlinks({ [`${DIR}/data/escape`]: '/etc' }) });
      const [violation] = checkComposePolicy(project({ volumes: [bind(`${DIR}/data/escape`)] }), ctx);
      expect(violation.message).toContain('really /etc');
    });

    it('refuses a volume whose driver_opts bind a host path outside the instance folder', () => {
      const top = { volumes: { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: `${PROJECT}_cache`, driver: 'local', driver_opts: { type: 'none', o: 'bind', device: '/home' } } } };
      expect(checkComposePolicy(project({}, top), context())).toEqual([{ rule: 'host_path', message: expect.stringContaining('/home') }]);
    });

    it('refuses a volume whose driver_opts mount a host block device', () => {
      const top = { volumes: { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: `${PROJECT}_cache`, driver: 'local', driver_opts: { type: 'ext4', device: '/dev/sda1' } } } };
      expect(rules(checkComposePolicy(project({}, top), context()))).toEqual(['host_path']);
    });

    it('accepts a volume whose driver_opts bind a folder below the instance folder', () => {
      const top = { volumes: { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: `${PROJECT}_cache`, driver: 'local', driver_opts: { type: 'none', o: 'bind', device: `${DIR}/cache` } } } };
      expect(checkComposePolicy(project({}, top), context())).toEqual([]);
    });

    it.each(['configs', 'secrets'])('refuses %s read from a file outside the instance folder', (section) => {
      const p = project({ [section]: [{ source: 'x' }] }, { [section]: { x: { name: `${PROJECT}_x`, file: '/etc/shadow' } } });
      expect(checkComposePolicy(p, context())).toEqual([{ rule: 'host_path', message: expect.stringContaining('/etc/shadow') }]);
    });

    it.each(['configs', 'secrets'])('accepts %s read from a file below the instance folder', (section) => {
      const p = project({ [section]: [{ source: 'x' }] }, { [section]: { x: { name: `${PROJECT}_x`, file: `${DIR}/conf/app.ini` } } });
      expect(checkComposePolicy(p, context())).toEqual([]);
    });
  });

  describe('the Docker socket in any form', () => {
    const socketCases: Array<[label: string, source: string, links: Record<string, string>]> = [
      ['/var/run/docker.sock', '/var/run/docker.sock', {}],
      ['/run/docker.sock', '/run/docker.sock', {}],
      ['a rootless engine’s socket', '/run/user/1000/docker.sock', {}],
      ['the folder /var/run that holds it', '/var/run', {}],
      ['the folder /run that holds it', '/run', {}],
      ['the whole host', '/', {}],
      ['the engine’s plugin sockets', '/run/docker/plugins', {}],
      ['the engine’s state', '/var/lib/docker', {}],
      ['containerd’s socket', '/run/containerd/containerd.sock', {}],
      ['a symlink inside the instance folder that leads to it', `${DIR}/data/sock`, { [`${DIR}/data/sock`]: '/run/docker.sock' }],
      ['a symlink inside the instance folder that leads to /run', `${DIR}/data/run`, { [`${DIR}/data/run`]: '/run' }],
    ];

    it.each(socketCases)('refuses a bind mount of %s', (_label, source, links) => {
      const violations = checkComposePolicy(project({ volumes: [bind(source)] }), context({ realPath: symlinks(links) }));
      expect(violations).toEqual([{ service: 'app', rule: 'docker_socket', message: expect.stringContaining(source) }]);
    });

    it.each(['/var/run/docker.sock', '/var/run'])('refuses a volume whose driver_opts device is %s', (device) => {
      const top = { volumes: { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: `${PROJECT}_cache`, driver: 'local', driver_opts: { type: 'none', o: 'bind', device } } } };
      expect(rules(checkComposePolicy(project({}, top), context()))).toEqual(['docker_socket']);
    });

    it.each(['configs', 'secrets'])('refuses %s whose file is the socket', (section) => {
      const p = project({ [section]: [{ source: 'engine' }] }, { [section]: { engine: { name: `${PROJECT}_engine`, file: '/var/run/docker.sock' } } });
      expect(rules(checkComposePolicy(p, context()))).toEqual(['docker_socket']);
    });
  });

  it('lists every violation of a project at once', () => {
    const p = project(
      {
        privileged: true,
        network_mode: 'host',
        cap_add: ['SYS_ADMIN', 'NET_ADMIN'],
        security_opt: ['apparmor:unconfined'],
        volumes: [bind('/etc'), bind('/var/run/docker.sock'), bind(`${DIR}/ok`)],
      },
      { volumes: { data: { name: APP_VOLUME, external: true }, link: { name: LINK_VOLUME, external: true }, cache: { name: 'portainer_data', external: true } } },
    );
    (p.services as Json).db = { image: 'postgres:16', build: { context: DIR }, volumes_from: ['app'], devices: [{ source: '/dev/mem', target: '/dev/mem', permissions: 'rwm' }] };
    expect(rules(checkComposePolicy(p, context())).sort()).toEqual(
      [
        'external_volume',
        'app:privileged',
        'app:network_mode',
        'app:cap_add',
        'app:security_opt',
        'app:host_path',
        'app:docker_socket',
        'db:build',
        'db:volumes_from',
        'db:devices',
      ].sort(),
    );
  });

  it('gives each violation a human message', () => {
    const violations = checkComposePolicy(project({ privileged: true, cap_add: ['SYS_ADMIN'] }), context());
    expect(violations).toEqual([
      { service: 'app', rule: 'privileged', message: expect.stringMatching(/privileged/) },
      { service: 'app', rule: 'cap_add', message: expect.stringMatching(/SYS_ADMIN.*NET_ADMIN, NET_BIND_SERVICE/) },
    ]);
  });
});

describe('checkTemplateInputs (what Compose would read from the host)', () => {
  /** Parsed as AppLifecycleService parses a template. */
  const template = (yaml: string): Json => parseYaml(yaml, { maxAliasCount: 100, uniqueKeys: true }) as Json;

  const refused: Array<[label: string, yaml: string, expected: string[]]> = [
    ['include', 'include: [/etc/compose.yaml]\nservices:\n  app: { image: x }', ['include']],
    ['include of a remote file', 'include:\n  - path: ../other/compose.yaml\nservices:\n  app: { image: x }', ['include']],
    ['env_file as a string', 'services:\n  app: { image: x, env_file: /etc/environment }', ['app:env_file']],
    ['env_file as a list', 'services:\n  app: { image: x, env_file: [a.env, /etc/os-release] }', ['app:env_file']],
    ['env_file as objects', 'services:\n  app:\n    image: x\n    env_file:\n      - path: /etc/os-release\n        required: false', ['app:env_file']],
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
    ['include merged in at the top level', 'x-inc: &inc { include: [/etc/compose.yaml] }\n<<: *inc\nservices:\n  app: { image: x }', ['include']],
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
