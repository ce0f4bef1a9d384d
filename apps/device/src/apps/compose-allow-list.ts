/**
 * What an app may ask of the machine, as an allow-list over the project Compose normalised
 * (`docker compose config --format json`): every key the device understands is named here, with
 * the values it accepts; any other key is refused by its path, so a key a newer Compose learns
 * stays refused until someone reviews it. catalog/README.md documents it for app authors.
 */
import { posix } from 'node:path';

/** What the value rules see of the project besides the value itself. */
export interface PolicyScope {
  /** The project's name (`mosaic-<instance>`). */
  project: string;
  services: string[];
  /** The names of the project's top-level volumes. */
  volumes: string[];
  allowedCaps: string[];
  /** The two volumes the device created for the instance. */
  deviceVolumes: string[];
}

/** A refusal's rule and message, or undefined when the value is allowed. */
export type Refusal = { rule: string; message: string } | undefined;
/** Checks one value; `key` is the last part of its path (a service, network or volume name). */
export type ValueRule = (value: unknown, scope: PolicyScope, key: string) => Refusal;

/** What may stand at one place of the project. */
export type Allowed =
  /** Any value: Compose checked its form, and nothing in it reaches past the container. */
  | { kind: 'any' }
  /** An object with these keys only (and `x-*` extensions where `extensions`). */
  | { kind: 'keys'; keys: Record<string, Allowed>; extensions?: boolean }
  /** An object whose keys are the app's own names (services, variables, labels…). */
  | { kind: 'map'; entries: Allowed; key?: ValueRule }
  | { kind: 'list'; items: Allowed }
  /** A value the rule checks first; only a value it accepts is looked into further. */
  | { kind: 'checked'; rule: ValueRule; inner: Allowed }
  /** A key Compose knows and Mosaic refuses, with the reason. */
  | { kind: 'refused'; rule: string; why: string };

const any: Allowed = { kind: 'any' };
const keys = (shape: Record<string, Allowed>, extensions = false): Allowed => ({ kind: 'keys', keys: shape, extensions });
const mapOf = (entries: Allowed, key?: ValueRule): Allowed => ({ kind: 'map', entries, key });
const listOf = (items: Allowed): Allowed => ({ kind: 'list', items });
const checked = (rule: ValueRule, inner: Allowed = any): Allowed => ({ kind: 'checked', rule, inner });
const refused = (rule: string, why: string): Allowed => ({ kind: 'refused', rule, why });
const refuse = (rule: string, message: string): Refusal => ({ rule, message });

/** Places of the engine itself: its socket in any form, and its state. */
const ENGINE_PATHS = [/docker\.sock/, /^\/(var\/)?run\/docker(\/|$)/, /^\/var\/lib\/docker(\/|$)/, /containerd\.sock/];
/** A folder that holds one of these (/run, /var, /) reaches the engine too. */
const ENGINE_PLACES = ['/var/run/docker.sock', '/run/docker.sock', '/var/lib/docker', '/run/containerd/containerd.sock'];

function reachesEngine(path: string): boolean {
  const holds = (place: string) => {
    const rel = posix.relative(path, place);
    return rel === '' || (rel !== '..' && !rel.startsWith('../') && !posix.isAbsolute(rel));
  };
  return ENGINE_PATHS.some((re) => re.test(path)) || ENGINE_PLACES.some(holds);
}

/** A host path is refused either way; one that reaches the engine says so. */
function hostPath(what: string, path: unknown, remedy: string): Refusal {
  if (typeof path === 'string' && posix.isAbsolute(path) && reachesEngine(path))
    return refuse('docker_socket', `${what} ${path} reaches the Docker engine`);
  return refuse('host_path', `${what} ${typeof path === 'string' ? path : JSON.stringify(path)}: apps get no host paths; ${remedy}`);
}

/** Labels Compose and Mosaic read to tell what a container is: an app may not claim them. */
const RESERVED_LABELS = ['io.mosaic.', 'com.docker.compose.'];
const label: ValueRule = (_value, _scope, key) =>
  RESERVED_LABELS.some((prefix) => key.toLowerCase().startsWith(prefix))
    ? refuse(
        'label',
        `label ${key} is reserved (${RESERVED_LABELS.map((p) => `${p}*`).join(', ')}): the device and Compose tell containers apart by them`,
      )
    : undefined;
const labels = mapOf(any, label);

/** `service:<name>` of one of the project's own services. */
function ownService(value: unknown, scope: PolicyScope): boolean {
  return typeof value === 'string' && value.startsWith('service:') && scope.services.includes(value.slice('service:'.length));
}

/** network_mode, pid, ipc, cgroup: the values that keep the service in namespaces of its own project. */
function namespace(name: string, allowed: string[]): ValueRule {
  return (value, scope) => {
    if ((typeof value === 'string' && allowed.includes(value)) || ownService(value, scope)) return undefined;
    if (value === 'host') return refuse(name, `asks for ${name}: host`);
    if (typeof value === 'string' && value.startsWith('container:'))
      return refuse(name, `asks to join another container's namespace (${name}: ${value})`);
    const choices = [...allowed, 'service:<one of its services>'].join(', ');
    return refuse(name, `asks for ${name}: ${JSON.stringify(value)}; allowed: ${choices}`);
  };
}

const capability: ValueRule = (value, scope) => {
  const name = String(value).toUpperCase().replace(/^CAP_/, '');
  return scope.allowedCaps.includes(name)
    ? undefined
    : refuse('cap_add', `asks for capability ${name}; allowed: ${scope.allowedCaps.join(', ') || 'none'}`);
};

/** Options that confine a container further, or name the engine's defaults; nothing else. */
const SECURITY_OPTS = [
  /^no-new-privileges(?:[=:]true)?$/,
  /^apparmor[=:]docker-default$/,
  /^seccomp[=:](?:default|builtin)$/,
  /^label[=:]type:container_t$/,
];
const securityOpt: ValueRule = (value) =>
  SECURITY_OPTS.some((re) => re.test(String(value)))
    ? undefined
    : refuse(
        'security_opt',
        `asks for security_opt ${String(value)}; allowed: no-new-privileges, apparmor=docker-default, seccomp=builtin, label=type:container_t`,
      );

const notPrivileged: ValueRule = (value) => (value === false ? undefined : refuse('privileged', 'asks to run privileged'));

/** A service's mount: one of the project's volumes, or a tmpfs. */
const mount: ValueRule = (value, scope) => {
  const m = (value ?? {}) as Record<string, unknown>;
  if (m.type === 'bind') return hostPath('bind mount of', m.source, 'keep data in the app volume');
  if (m.type === 'npipe') return hostPath('named pipe', m.source, 'keep data in the app volume');
  if (m.type === 'tmpfs') return undefined;
  if (m.type !== 'volume') return refuse('volume', `mount type ${JSON.stringify(m.type)} is not allowed; use a volume or a tmpfs`);
  if (m.source !== undefined && !(typeof m.source === 'string' && scope.volumes.includes(m.source))) {
    return refuse('volume', `volume ${JSON.stringify(m.source)} is not declared`);
  }
  return undefined;
};

/** A top-level volume: one of the device's two, or a local volume of the project's own. */
const volume: ValueRule = (value, scope, key) => {
  const v = (value ?? {}) as Record<string, unknown>;
  const name = typeof v.name === 'string' ? v.name : key;
  if (scope.deviceVolumes.includes(name)) return undefined;
  if (v.external === true)
    return refuse('external_volume', `external volume "${name}" is not one of the app's own volumes (${scope.deviceVolumes.join(', ')})`);
  // Compose only warns, then mounts an existing volume of that name: as good as external.
  if (!name.startsWith(`${scope.project}_`))
    return refuse('external_volume', `volume "${key}" is named "${name}", outside the project's own volumes (${scope.project}_*)`);
  if (v.driver !== undefined && v.driver !== 'local')
    return refuse('volume', `volume "${key}" asks for driver ${String(v.driver)}; an app's own volumes are local`);
  return undefined;
};

/** A top-level network: a bridge of the project's own, never one of the host or of anything else. */
const network: ValueRule = (value, scope, key) => {
  const n = (value ?? {}) as Record<string, unknown>;
  if (n.external === true)
    return refuse('network', `network "${key}" (${String(n.name ?? key)}) is not the app's own; an app joins only its own bridge networks`);
  if (n.driver !== undefined && n.driver !== 'bridge')
    return refuse('network', `network "${key}" asks for driver ${String(n.driver)}; an app gets bridge networks only`);
  if (n.name !== undefined && n.name !== `${scope.project}_${key}`) {
    return refuse(
      'network',
      `network "${key}" is named "${String(n.name)}"; an app's networks are named by Compose (${scope.project}_${key})`,
    );
  }
  return undefined;
};

const LOG_DRIVERS = ['json-file', 'local', 'none'];
const logDriver: ValueRule = (value) =>
  LOG_DRIVERS.includes(String(value))
    ? undefined
    : refuse('logging', `log driver ${String(value)} would send logs off the machine or to the host; allowed: ${LOG_DRIVERS.join(', ')}`);

const notBuild: ValueRule = (value) =>
  value === 'build' ? refuse('build', 'pull_policy: build builds an image; apps run published images only') : undefined;

const hook = keys({ command: any, user: any, working_dir: any, environment: any, privileged: checked(notPrivileged) });

/** The keys of a service, each allowed (with its values) or refused with a reason. */
export const SERVICE: Record<string, Allowed> = {
  image: any,
  command: any,
  entrypoint: any,
  environment: any,
  working_dir: any,
  user: any,
  group_add: any,
  init: any,
  tty: any,
  stdin_open: any,
  read_only: any,
  restart: any,
  stop_signal: any,
  stop_grace_period: any,
  healthcheck: keys({ test: any, interval: any, timeout: any, retries: any, start_period: any, start_interval: any, disable: any }),
  depends_on: mapOf(keys({ condition: any, required: any, restart: any })),
  profiles: any,
  scale: any,
  attach: any,
  platform: any,
  pull_policy: checked(notBuild),
  hostname: any,
  domainname: any,
  mac_address: any,
  dns: any,
  dns_search: any,
  dns_opt: any,
  extra_hosts: any,
  expose: any,
  ports: listOf(keys({ name: any, mode: any, host_ip: any, target: any, published: any, protocol: any, app_protocol: any })),
  networks: mapOf(keys({ aliases: any, ipv4_address: any, ipv6_address: any, priority: any })),
  network_mode: checked(namespace('network_mode', ['none'])),
  ipc: checked(namespace('ipc', ['private', 'shareable', 'none'])),
  pid: checked(namespace('pid', [])),
  cgroup: checked(namespace('cgroup', ['private'])),
  labels,
  volumes: listOf(
    checked(
      mount,
      keys({
        type: any,
        source: any,
        target: any,
        read_only: any,
        consistency: any,
        volume: keys({ nocopy: any }),
        tmpfs: keys({ size: any, mode: any }),
      }),
    ),
  ),
  tmpfs: any,
  configs: listOf(keys({ source: any, target: any, uid: any, gid: any, mode: any })),
  secrets: listOf(keys({ source: any, target: any, uid: any, gid: any, mode: any })),
  cap_add: listOf(checked(capability)),
  cap_drop: any,
  security_opt: listOf(checked(securityOpt)),
  privileged: checked(notPrivileged),
  post_start: listOf(hook),
  pre_stop: listOf(hook),
  ulimits: any,
  sysctls: any,
  shm_size: any,
  mem_limit: any,
  mem_reservation: any,
  memswap_limit: any,
  mem_swappiness: any,
  cpus: any,
  cpu_shares: any,
  cpu_quota: any,
  cpu_period: any,
  cpuset: any,
  pids_limit: any,
  logging: keys({ driver: checked(logDriver), options: any }),
  deploy: keys({
    replicas: any,
    restart_policy: keys({ condition: any, delay: any, max_attempts: any, window: any }),
    resources: keys({
      limits: keys({ cpus: any, memory: any, pids: any }),
      reservations: keys({
        cpus: any,
        memory: any,
        devices: refused('devices', 'reserves host devices (GPUs)'),
        generic_resources: refused('devices', 'reserves host resources'),
      }),
    }),
    // Compose prints an empty placement for every deploy section; it only means something to Swarm.
    placement: keys({}),
  }),
  // Refused, with the reason an app author needs.
  build: refused('build', 'asks to build an image; apps run published images only'),
  container_name: refused(
    'container_name',
    'fixes a container name; Compose names an app’s containers, and the device’s own names must stay its own',
  ),
  volumes_from: refused('volumes_from', 'asks for the volumes of another container'),
  devices: refused('devices', 'asks for host devices'),
  device_cgroup_rules: refused('devices', 'asks for device cgroup rules'),
  gpus: refused('devices', 'asks for the host’s GPUs'),
  runtime: refused('runtime', 'asks for another container runtime'),
  use_api_socket: refused('docker_socket', 'asks for the Docker engine’s API socket'),
  uts: refused('uts', 'asks for the host’s UTS namespace'),
  userns_mode: refused('userns_mode', 'asks for the host’s user namespace'),
  cgroup_parent: refused('cgroup_parent', 'asks for a cgroup parent'),
  provider: refused('provider', 'asks Compose to run a provider program on the host'),
  external_links: refused('network', 'links to containers outside the app'),
  links: refused('network', 'is a legacy link; services of an app reach each other by name on its network'),
};

/** The project as `docker compose config` prints it. */
export const PROJECT: Allowed = keys(
  {
    name: any,
    services: mapOf(keys(SERVICE)),
    networks: mapOf(checked(network, keys({ name: any, driver: any, internal: any, labels, ipam: keys({}) }))),
    volumes: mapOf(
      checked(
        volume,
        keys({
          name: any,
          external: any,
          driver: any,
          labels,
          driver_opts: checked((opts) =>
            hostPath(
              'volume driver options',
              (opts as Record<string, unknown>)?.device ?? opts,
              'an app’s own volumes are plain local volumes',
            ),
          ),
        }),
      ),
    ),
    configs: mapOf(
      keys({
        name: any,
        content: any,
        environment: any,
        labels,
        file: checked((file) => hostPath('a file', file, 'give the content instead (content:)')),
      }),
    ),
    secrets: mapOf(
      keys({
        name: any,
        content: any,
        environment: any,
        labels,
        file: checked((file) => hostPath('a file', file, 'give the content instead (content:)')),
      }),
    ),
  },
  true,
);
