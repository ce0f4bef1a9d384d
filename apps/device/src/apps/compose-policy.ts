import { posix } from 'node:path';
import { COMPOSE_FILE, METADATA_FILE, VARIABLES_FILE } from './app-files.adapter';

/** One thing a project asks that the device will not give (§2.2); all are listed at once. */
export interface PolicyViolation {
  service?: string;
  rule: string;
  message: string;
}

export interface PolicyContext {
  /** APPS_DIR/<instance>, absolute, with its symlinks resolved (host paths are compared by where they really lead). */
  instanceDir: string;
  allowedCaps: string[];
  /** The two volumes the device created for the instance. */
  deviceVolumes: string[];
  /** Where a host path really leads (symlinks resolved); identity when nothing is on disk. */
  realPath: (path: string) => string;
}

type Json = Record<string, unknown>;

const NAMESPACE_KEYS = ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode', 'cgroup'] as const;
/** Places of the engine itself: its socket in any form, and its state. */
const ENGINE_PATHS = [/docker\.sock/, /^\/(var\/)?run\/docker(\/|$)/, /^\/var\/lib\/docker(\/|$)/, /containerd\.sock/];
/** A mount of a folder that holds one of these (/run, /var, /) reaches the engine too. */
const ENGINE_PLACES = ['/var/run/docker.sock', '/run/docker.sock', '/var/lib/docker', '/run/containerd/containerd.sock'];
/** The device's own files in the instance folder (and the .env Compose reads there): never the app's to write. */
const DEVICE_FILES = [COMPOSE_FILE, METADATA_FILE, VARIABLES_FILE, '.env'];

function asObject(value: unknown): Json {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isInside(dir: string, path: string): boolean {
  const rel = posix.relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !posix.isAbsolute(rel));
}

/**
 * Checks a project as `docker compose config` normalised it (absolute paths, interpolated
 * values) against the policy of docs/protocol.md §2.2, plus what else would reach the host.
 */
export function checkComposePolicy(project: Json, context: PolicyContext): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const add = (rule: string, message: string, service?: string) => violations.push({ ...(service ? { service } : {}), rule, message });

  const hostPath = (path: string, what: string, service?: string) => {
    const real = context.realPath(path);
    const really = real !== path ? ` (really ${real})` : '';
    const holdsEngine = (p: string) => ENGINE_PLACES.some((place) => isInside(p, place));
    if (ENGINE_PATHS.some((re) => re.test(path) || re.test(real)) || holdsEngine(path) || holdsEngine(real)) {
      add('docker_socket', `${what} ${path}${really} reaches the Docker engine`, service);
    } else if (!isInside(context.instanceDir, real)) {
      // Only where the path really leads counts: Compose prints APPS_DIR as configured, symlinks and all.
      add('host_path', `${what} ${path}${really} is outside ${context.instanceDir}`, service);
    } else {
      const rel = posix.relative(context.instanceDir, real);
      if (rel === '' || DEVICE_FILES.includes(rel.split('/')[0])) {
        add('host_path', `${what} ${path}${really} would let the app rewrite the device's own files in ${context.instanceDir}; mount a folder below it`, service);
      }
    }
  };

  for (const [key, raw] of Object.entries(asObject(project.networks))) {
    // `networks: { default: { name: host } }` puts every service on the host's network, like network_mode: host.
    if (asObject(raw).name === 'host') add('network_mode', `network "${key}" is the host's own network`);
  }

  const topVolumes = asObject(project.volumes);
  for (const [key, raw] of Object.entries(topVolumes)) {
    const volume = asObject(raw);
    const name = typeof volume.name === 'string' ? volume.name : key;
    if (volume.external === true && !context.deviceVolumes.includes(name)) {
      add('external_volume', `external volume "${name}" is not one of the app's own volumes (${context.deviceVolumes.join(', ')})`);
    } else if (typeof project.name === 'string' && !context.deviceVolumes.includes(name) && !name.startsWith(`${project.name}_`)) {
      // Compose only warns, then mounts an existing volume of that name: as good as external.
      add('external_volume', `volume "${key}" is named "${name}", outside the project's own volumes (${project.name}_*)`);
    }
    const opts = asObject(volume.driver_opts);
    if (typeof opts.device === 'string' || /\bbind\b/.test(String(opts.o ?? ''))) {
      const device = typeof opts.device === 'string' ? opts.device : '(bind)';
      if (device.startsWith('/')) hostPath(device, `volume "${key}" binds host path`);
      else add('host_path', `volume "${key}" binds a host device ${device}`);
    }
  }
  for (const section of ['configs', 'secrets'] as const) {
    for (const [key, raw] of Object.entries(asObject(project[section]))) {
      const file = asObject(raw).file;
      if (typeof file === 'string') hostPath(file, `${section.slice(0, -1)} "${key}" reads host file`);
    }
  }

  for (const [service, raw] of Object.entries(asObject(project.services))) {
    const s = asObject(raw);
    if (s.privileged === true) add('privileged', 'asks to run privileged', service);
    for (const hook of ['post_start', 'pre_stop']) {
      if (asArray(s[hook]).some((h) => asObject(h).privileged === true)) add('privileged', `asks for a privileged ${hook} hook`, service);
    }
    if (s.provider !== undefined) add('provider', 'asks Compose to run a provider program on the host', service);
    for (const key of NAMESPACE_KEYS) {
      const value = s[key];
      if (value === 'host') add(key, `asks for ${key}: host`, service);
      else if (typeof value === 'string' && value.startsWith('container:')) {
        add(key, `asks to join another container's namespace (${key}: ${value})`, service);
      }
    }
    if (asArray(s.devices).length) add('devices', 'asks for host devices', service);
    if (asArray(s.device_cgroup_rules).length) add('devices', 'asks for device cgroup rules', service);
    if (typeof s.cgroup_parent === 'string' && s.cgroup_parent) add('cgroup_parent', 'asks for a cgroup parent', service);
    for (const cap of asArray(s.cap_add)) {
      const name = String(cap).toUpperCase().replace(/^CAP_/, '');
      if (!context.allowedCaps.includes(name)) {
        add('cap_add', `asks for capability ${name}; allowed: ${context.allowedCaps.join(', ') || 'none'}`, service);
      }
    }
    for (const opt of asArray(s.security_opt)) {
      const value = String(opt);
      // unconfined (§2.2), SELinux labels off, or a seccomp profile read from a host file.
      if (/unconfined/i.test(value) || /^label[=:]disable$/i.test(value) || /^seccomp[=:](?!default$|builtin$)/i.test(value)) {
        add('security_opt', `asks for security_opt ${value}`, service);
      }
    }
    if (asArray(s.volumes_from).length) add('volumes_from', 'asks for volumes_from', service);
    if (s.build !== undefined) add('build', 'asks to build an image; apps run published images only', service);
    for (const rawMount of asArray(s.volumes)) {
      const mount = asObject(rawMount);
      const source = typeof mount.source === 'string' ? mount.source : '';
      if (mount.type === 'bind') hostPath(source, 'bind mount of', service);
      else if (mount.type === 'npipe') add('host_path', `named pipe ${source}`, service);
      else if (mount.type === 'volume' && source && !(source in topVolumes)) {
        add('volume', `volume "${source}" is not declared`, service);
      }
    }
  }
  return violations;
}

/**
 * What Compose reads from the host while it normalises a file (env_file, include, extends,
 * label_file): refused on the raw template, before Compose ever runs.
 */
export function checkTemplateInputs(rawTemplate: Json): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const template = asObject(withMergeKeys(rawTemplate));
  if (template.include !== undefined) {
    violations.push({ rule: 'include', message: 'include reads other files; an app is one compose file' });
  }
  for (const [service, raw] of Object.entries(asObject(template.services))) {
    const s = asObject(raw);
    if (s.env_file !== undefined) violations.push({ service, rule: 'env_file', message: 'env_file reads host files; use variables' });
    if (s.label_file !== undefined) violations.push({ service, rule: 'label_file', message: 'label_file reads host files' });
    if ('file' in asObject(s.extends)) {
      violations.push({ service, rule: 'extends', message: 'extends may only name a service of the same file' });
    }
  }
  return violations;
}

/**
 * Applies YAML `<<` merge keys as Compose does. The device parses YAML 1.2, which keeps `<<` as a
 * plain key, so without this an env_file could hide in a merged anchor.
 */
function withMergeKeys(value: unknown, depth = 0): unknown {
  if (depth > 64 || !value || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withMergeKeys(item, depth + 1));
  const own = value as Json;
  const merged: Json = Object.create(null) as Json;
  const sources = '<<' in own ? (Array.isArray(own['<<']) ? own['<<'] : [own['<<']]) : [];
  // Earlier sources win over later ones, and the map's own keys over all of them.
  for (const source of [...sources].reverse()) Object.assign(merged, asObject(withMergeKeys(source, depth + 1)));
  for (const [key, item] of Object.entries(own)) if (key !== '<<') merged[key] = withMergeKeys(item, depth + 1);
  return merged;
}
