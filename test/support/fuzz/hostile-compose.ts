import fc from 'fast-check';
import { stringify } from 'yaml';
import { ErrorCode } from '@mosaic/protocol';

type Doc = { services: Record<string, Record<string, any>>; [top: string]: any };
/** One change to a compose document, and whether the policy (2.2) lets it through. */
export interface ComposeItem {
  name: string;
  allowed: boolean;
  apply(doc: Doc): void;
}

const web = (doc: Doc) => doc.services.web;
const item = (name: string, allowed: boolean, apply: (doc: Doc) => void): ComposeItem => ({ name, allowed, apply });
const set = (name: string, key: string, value: unknown, allowed = false) => item(name, allowed, (d) => (web(d)[key] = value));
const mount = (name: string, spec: unknown) => item(name, false, (d) => web(d).volumes.push(spec));
/** The service on a network `lan` declared as `spec`. */
const network = (name: string, spec: unknown, allowed = false) =>
  item(name, allowed, (d) => {
    web(d).networks = ['lan'];
    d.networks = { lan: spec };
  });
/** The service mounting a top-level volume `key` declared as `spec`. */
const topVolume = (name: string, key: string, spec: unknown, allowed = false) =>
  item(name, allowed, (d) => {
    web(d).volumes.push(`${key}:/${key}`);
    d.volumes[key] = spec;
  });

/** Everything 2.2 refuses: the allow-list's complement, as an attacker would write it. */
export const HOSTILE_ITEMS: ComposeItem[] = [
  set('privileged', 'privileged', true),
  set('use_api_socket', 'use_api_socket', true),
  set('gpus', 'gpus', 'all'),
  set('runtime', 'runtime', 'runc'),
  set('devices', 'devices', ['/dev/null:/dev/fuzz']),
  set('device_cgroup_rules', 'device_cgroup_rules', ['c 1:3 mr']),
  set('deploy devices', 'deploy', {
    resources: { reservations: { devices: [{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }] } },
  }),
  set('security_opt spc_t', 'security_opt', ['label=type:spc_t']),
  set('security_opt unconfined', 'security_opt', ['seccomp=unconfined', 'apparmor=unconfined']),
  set('cap_add SYS_ADMIN', 'cap_add', ['SYS_ADMIN']),
  set('cap_add ALL', 'cap_add', ['ALL']),
  set('cap_add CAP_SYS_PTRACE', 'cap_add', ['CAP_SYS_PTRACE']),
  set('network_mode host', 'network_mode', 'host'),
  set('network_mode container', 'network_mode', 'container:mosaic-device'),
  set('pid host', 'pid', 'host'),
  set('ipc host', 'ipc', 'host'),
  set('uts host', 'uts', 'host'),
  set('userns_mode host', 'userns_mode', 'host'),
  set('cgroup host', 'cgroup', 'host'),
  set('cgroup_parent', 'cgroup_parent', '/system.slice'),
  set('container_name', 'container_name', 'mosaic-device'),
  set('io.mosaic label', 'labels', { 'io.mosaic.component': 'storage-plugin' }),
  set('com.docker.compose label', 'labels', { 'com.docker.compose.project': 'mosaic' }),
  set('volumes_from', 'volumes_from', ['mosaic-device']),
  set('links', 'links', ['other']),
  set('external_links', 'external_links', ['mosaic-hive']),
  set('logging syslog', 'logging', { driver: 'syslog', options: { 'syslog-address': 'udp://203.0.113.1:514' } }),
  set('build', 'build', '.'),
  set('pull_policy build', 'pull_policy', 'build'),
  set('annotations', 'annotations', { a: 'b' }),
  set('post_start privileged', 'post_start', [{ command: ['true'], privileged: true }]),
  mount('bind /', '/:/host'),
  mount('bind ..', '../:/up'),
  mount('bind app folder', './data:/data2'),
  mount('bind app folder read-only', './data/d:/mnt:ro'),
  mount('bind docker socket', '/var/run/docker.sock:/var/run/docker.sock'),
  mount('bind engine state', { type: 'bind', source: '/var/lib/docker', target: '/e', read_only: true }),
  mount('bind climbing', './x/../../../../:/climb'),
  mount('undeclared volume', 'stranger:/s'),
  network('external network', { external: true, name: 'mosaic_default' }),
  network('macvlan network', { driver: 'macvlan' }),
  network('ipvlan network', { driver: 'ipvlan' }),
  network('named network', { name: 'bridge' }),
  network('network label', { labels: { 'io.mosaic.instance': 'x' } }),
  topVolume('driver_opts device', 'cache', { driver: 'local', driver_opts: { type: 'none', o: 'bind', device: '/' } }),
  topVolume('external volume', 'other', { external: true, name: 'mosaic-hive-data' }),
  topVolume('volume named outside', 'other', { name: 'mosaic_hive' }),
  topVolume('volume label', 'mine', { labels: { 'io.mosaic.role': 'app' } }),
  item('config file', false, (d) => {
    web(d).configs = ['conf'];
    d.configs = { conf: { file: '/etc/shadow' } };
  }),
  item('secret file', false, (d) => {
    web(d).secrets = ['key'];
    d.secrets = { key: { file: './data/d' } };
  }),
];

/** What an app may ask for, mixed into hostile documents and, alone, started for real. */
export const ALLOWED_ITEMS: ComposeItem[] = [
  set('environment', 'environment', { GREETING: 'hello', EMPTY: '' }, true),
  set('ports', 'ports', ['127.0.0.1::8080'], true),
  set('cap_add allowed', 'cap_add', ['NET_BIND_SERVICE'], true),
  set('cap_drop', 'cap_drop', ['ALL'], true),
  set('security_opt allowed', 'security_opt', ['no-new-privileges:true'], true),
  set('read_only', 'read_only', true, true),
  set('tmpfs', 'tmpfs', ['/run/x'], true),
  set('labels', 'labels', { 'org.example.app': 'fuzz' }, true),
  set('restart', 'restart', 'unless-stopped', true),
  set('healthcheck', 'healthcheck', { test: ['CMD', 'true'], interval: '30s' }, true),
  set('user', 'user', '1000:1000', true),
  set('working_dir', 'working_dir', '/data', true),
  set('ulimits', 'ulimits', { nofile: { soft: 1024, hard: 2048 } }, true),
  set('mem_limit', 'mem_limit', '64m', true),
  set('pids_limit', 'pids_limit', 100, true),
  set('logging local', 'logging', { driver: 'local' }, true),
  network('own network', { driver: 'bridge', internal: true }, true),
  topVolume('own volume', 'cache', {}, true),
  item('second service', true, (d) => {
    d.services.worker = { image: 'mosaic-test/busybox', command: ['sleep', '300'], stop_grace_period: '1s', depends_on: ['web'] };
  }),
  topVolume('link volume', 'link', { external: true, name: '${LINK_VOLUME_NAME}' }, true),
  item('config content', true, (d) => {
    web(d).configs = [{ source: 'conf', target: '/etc/app.conf' }];
    d.configs = { conf: { content: 'greeting=hello\n' } };
  }),
  item('secret from environment', true, (d) => {
    web(d).secrets = ['key'];
    d.secrets = { key: { environment: 'APP_INSTANCE' } };
  }),
];

/** A minimal app on the test image with the app volume, as every generated document starts. */
export function baseDocument(): Doc {
  return {
    services: { web: { image: 'mosaic-test/busybox', command: ['sleep', '300'], stop_grace_period: '1s', volumes: ['app:/data'] } },
    volumes: { app: { external: true, name: '${APP_VOLUME_NAME}' } },
  };
}

export function render(items: ComposeItem[]): string {
  const doc = baseDocument();
  for (const i of items) i.apply(doc);
  return stringify(doc);
}

export interface ComposeCase {
  items: string[];
  allowed: boolean;
  compose: string;
}

/**
 * Documents that reach the policy: hostile items (at least one unless `allowedOnly`) mixed with
 * allowed ones. The allowed-only ones (about a tenth) are started for real and audited.
 */
export const composeReachingPolicy: fc.Arbitrary<ComposeCase> = fc
  .tuple(
    fc.subarray(HOSTILE_ITEMS, { minLength: 0, maxLength: 4 }),
    fc.subarray(ALLOWED_ITEMS, { maxLength: 5 }),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(([hostile, allowed, dice]) => {
    const chosen =
      dice === 0 ? allowed : hostile.length ? [...hostile, ...allowed] : [HOSTILE_ITEMS[dice % HOSTILE_ITEMS.length], ...allowed];
    // Later items win a key both set; keep the order stable: allowed first, hostile after.
    const ordered = [...chosen.filter((i) => i.allowed), ...chosen.filter((i) => !i.allowed)];
    return { items: ordered.map((i) => i.name), allowed: ordered.every((i) => i.allowed), compose: render(ordered) };
  });

/** Ways a template is refused before Compose ever runs (2.1 steps 1-2), and by which codes. */
const EARLY: Array<{ name: string; codes: string[]; make(compose: string): { compose: string; variables?: Record<string, string> } }> = [
  { name: 'include', codes: [ErrorCode.POLICY_VIOLATION], make: (c) => ({ compose: `include: [../other/compose.yaml]\n${c}` }) },
  {
    name: 'env_file',
    codes: [ErrorCode.POLICY_VIOLATION],
    make: (c) => ({ compose: c.replace('  web:\n', '  web:\n    env_file: [/etc/shadow]\n') }),
  },
  {
    name: 'label_file',
    codes: [ErrorCode.POLICY_VIOLATION],
    make: (c) => ({ compose: c.replace('  web:\n', '  web:\n    label_file: ./labels\n') }),
  },
  {
    name: 'extends file',
    codes: [ErrorCode.POLICY_VIOLATION],
    make: (c) => ({ compose: c.replace('  web:\n', '  web:\n    extends: { file: /etc/compose.yaml, service: x }\n') }),
  },
  {
    name: 'tool variable',
    codes: [ErrorCode.INVALID_PARAMS],
    make: (c) => ({ compose: c, variables: { DOCKER_HOST: 'tcp://203.0.113.1:2375' } }),
  },
  { name: 'LD_PRELOAD', codes: [ErrorCode.INVALID_PARAMS], make: (c) => ({ compose: c, variables: { LD_PRELOAD: '/data/evil.so' } }) },
  {
    name: 'COMPOSE_FILE',
    codes: [ErrorCode.INVALID_PARAMS],
    make: (c) => ({ compose: c, variables: { COMPOSE_FILE: '/etc/other.yaml' } }),
  },
  {
    name: 'reserved variable',
    codes: [ErrorCode.INVALID_PARAMS],
    make: (c) => ({ compose: c, variables: { APP_VOLUME_NAME: 'mosaic-hive' } }),
  },
  { name: 'NUL', codes: [ErrorCode.INVALID_PARAMS], make: (c) => ({ compose: `${c}\0` }) },
  { name: 'over 256 KiB', codes: [ErrorCode.INVALID_PARAMS], make: (c) => ({ compose: `${c}# ${'x'.repeat(256 * 1024)}\n` }) },
  { name: 'a YAML list', codes: [ErrorCode.COMPOSE_INVALID], make: (c) => ({ compose: `- ${c.split('\n').join('\n  ')}` }) },
  { name: 'not YAML', codes: [ErrorCode.COMPOSE_INVALID], make: (c) => ({ compose: `${c}\n  : : [\n` }) },
  { name: 'repeated key', codes: [ErrorCode.COMPOSE_INVALID], make: (c) => ({ compose: `${c}services: {}\n` }) },
  {
    name: 'alias bomb',
    codes: [ErrorCode.COMPOSE_INVALID],
    make: (c) => ({
      compose: `${c}x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nx-b: &b [${'*a, '.repeat(60)}*a]\nx-c: [${'*b, '.repeat(60)}*b]\n`,
    }),
  },
];

export interface EarlyCase {
  items: string[];
  early: string;
  codes: string[];
  compose: string;
  variables: Record<string, string>;
}

/** Hostile documents that also carry something 2.1 refuses before Compose runs. */
export const composeRefusedEarly: fc.Arbitrary<EarlyCase> = fc
  .tuple(fc.subarray([...HOSTILE_ITEMS, ...ALLOWED_ITEMS], { maxLength: 5 }), fc.constantFrom(...EARLY))
  .map(([items, early]) => {
    const made = early.make(render(items));
    return {
      items: items.map((i) => i.name),
      early: early.name,
      codes: early.codes,
      compose: made.compose,
      variables: made.variables ?? {},
    };
  });
