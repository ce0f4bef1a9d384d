import { LIMITS, RESERVED_VARIABLES, isReservedVariable } from '@mosaic/protocol';
import { parse as parseYaml } from 'yaml';
import { AppCommandSpec, parseAppCommands } from './app-commands';
import { AppManifest } from './catalog-manifest.dto';

type Json = Record<string, unknown>;
const isMap = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const asMap = (value: unknown): Json => (isMap(value) ? value : {});
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The link the Hive gives every app, so the device sets LINK_DOMAIN_DEFAULT and LINK_TOKEN_DEFAULT. */
export const DEFAULT_LINK = 'default';
/** What a template may use without declaring it: the device sets these (§2.1). */
export const DEVICE_VARIABLES: readonly string[] = [...RESERVED_VARIABLES, 'LINK_DOMAIN_DEFAULT', 'LINK_TOKEN_DEFAULT'];
const VOLUME_VARIABLES = { app: 'APP_VOLUME_NAME', link: 'LINK_VOLUME_NAME' } as const;

const NAMESPACE_KEYS = ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode', 'cgroup'] as const;
/** Capabilities the device allows by default (ALLOWED_CAPS); a catalog app must run with those. */
const ALLOWED_CAPS = ['NET_ADMIN', 'NET_BIND_SERVICE'];
const ENGINE_PATH = /docker\.sock|containerd\.sock|^\/(var\/)?run\/docker(\/|$)|^\/var\/lib\/docker(\/|$)/;

export interface InspectedTemplate {
  services: string[];
  commands: Record<string, AppCommandSpec>;
  /** Every variable the template interpolates. */
  variables: Set<string>;
}

/** Parses a compose template as YAML; a string is why it is not a compose mapping. */
export function parseTemplate(text: string): Json | string {
  if (Buffer.byteLength(text, 'utf8') > LIMITS.composeBytes) return `is larger than ${LIMITS.composeBytes} bytes`;
  if (text.includes('\0')) return 'contains NUL';
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    return `is not valid YAML: ${(err as Error).message.split('\n')[0]}`;
  }
  if (!isMap(doc)) return 'must be a YAML mapping with services';
  return doc;
}

/**
 * Checks a catalog template before any device sees it: the shape the Hive relies on (both app
 * volumes, declared variables, app commands) and what the device's policy (§2.2) would refuse
 * anyway, read from the raw template. The device still checks the rendered project; this is the
 * early, readable warning for catalog authors. Returns what it found and every problem.
 */
export function inspectTemplate(doc: Json, manifest: AppManifest): { inspected: InspectedTemplate; problems: string[] } {
  const problems: string[] = [];
  const services = asMap(doc.services);
  const serviceNames = Object.keys(services);
  if (!isMap(doc.services) || serviceNames.length === 0) problems.push('services must be a map with at least one service');

  // Host files Compose would read while it loads the project.
  if (doc.include !== undefined) problems.push('include reads other files; an app is one compose file');
  for (const section of ['configs', 'secrets'] as const) {
    for (const [key, raw] of Object.entries(asMap(doc[section]))) {
      if (asMap(raw).file !== undefined) problems.push(`${section}.${key}: file reads a host file; use content (configs) or a variable`);
    }
  }

  // Exactly the two volumes the device creates, and nothing reaching the host through a volume.
  const volumes = asMap(doc.volumes);
  for (const [role, variable] of Object.entries(VOLUME_VARIABLES)) {
    const declared = Object.values(volumes).some((v) => asMap(v).external === true && asMap(v).name === `\${${variable}}`);
    if (!declared) problems.push(`volumes must declare the ${role} volume as { external: true, name: \${${variable}} }`);
  }
  for (const [key, raw] of Object.entries(volumes)) {
    const volume = asMap(raw);
    const own = Object.values(VOLUME_VARIABLES).some((variable) => volume.name === `\${${variable}}`);
    if (volume.external !== undefined && volume.external !== false && !own) {
      problems.push(`volumes.${key}: an external volume other than \${APP_VOLUME_NAME} and \${LINK_VOLUME_NAME}`);
    }
    if (volume.driver !== undefined || volume.driver_opts !== undefined) {
      problems.push(`volumes.${key}: driver and driver_opts belong to the device (its storage plugin)`);
    }
  }

  for (const [name, raw] of Object.entries(services)) {
    const bad = (message: string) => problems.push(`services.${name}: ${message}`);
    const service = asMap(raw);
    if (typeof service.image !== 'string' || service.image.length === 0) bad('needs an image (apps run published images)');
    if (service.build !== undefined) bad('build is refused: apps run published images only');
    if (service.privileged !== undefined && service.privileged !== false) bad('privileged is refused');
    for (const key of NAMESPACE_KEYS) {
      const value = service[key];
      if (value === 'host') bad(`${key}: host is refused`);
      else if (typeof value === 'string' && value.startsWith('container:')) bad(`${key}: ${value} joins another container's namespace`);
    }
    if (service.devices !== undefined) bad('devices is refused');
    if (service.device_cgroup_rules !== undefined) bad('device_cgroup_rules is refused');
    if (service.cgroup_parent !== undefined) bad('cgroup_parent is refused');
    if (service.volumes_from !== undefined) bad('volumes_from is refused');
    if (service.env_file !== undefined) bad('env_file reads host files; use variables');
    if (service.label_file !== undefined) bad('label_file reads host files');
    if ('file' in asMap(service.extends)) bad('extends may only name a service of the same file');
    for (const cap of asList(service.cap_add)) {
      const capability = String(cap).toUpperCase().replace(/^CAP_/, '');
      if (!ALLOWED_CAPS.includes(capability)) bad(`cap_add ${capability} is outside the default ALLOWED_CAPS (${ALLOWED_CAPS.join(', ')})`);
    }
    for (const option of asList(service.security_opt)) {
      if (/unconfined/i.test(String(option))) bad(`security_opt ${String(option)} is refused`);
    }
    for (const mount of asList(service.volumes)) {
      const problem = mountProblem(mount, volumes);
      if (problem) bad(problem);
    }
  }
  if (/docker\.sock|containerd\.sock/.test(JSON.stringify(doc.services ?? {}))) problems.push('services reach the Docker socket');

  const { commands, problems: commandProblems } = parseAppCommands(doc['x-mosaic'], serviceNames);
  problems.push(...commandProblems);

  // Variables: every one used is the device's or declared, and every declared one is used.
  const used = interpolatedVariables(doc);
  for (const variable of used) {
    if (DEVICE_VARIABLES.includes(variable) || variable in manifest.variables) continue;
    problems.push(
      isReservedVariable(variable)
        ? `\${${variable}} is never set: the Hive gives only the "${DEFAULT_LINK}" link`
        : `\${${variable}} is used but not declared in app.json variables`,
    );
  }
  for (const variable of Object.keys(manifest.variables)) {
    if (!used.has(variable)) problems.push(`app.json declares ${variable} but the template never uses it`);
  }

  if (manifest.open) {
    const { service, port } = manifest.open;
    if (!(service in services)) problems.push(`app.json open.service "${service}" is not a service of the template`);
    else if (!containerPorts(asMap(services[service])).includes(port)) {
      problems.push(`app.json open.port ${port} is not published by service "${service}"`);
    }
  }
  return { inspected: { services: serviceNames, commands, variables: used }, problems };
}

/** Why a service's volume entry would reach the host, or name an undeclared volume; null when fine. */
function mountProblem(mount: unknown, volumes: Json): string | null {
  let type: string;
  let source: string;
  if (typeof mount === 'string') {
    // Short syntax: SOURCE:TARGET[:MODE], or a bare TARGET (an anonymous volume).
    const parts = mount.split(':');
    if (parts.length === 1) return null;
    source = parts[0];
    type = /^[./~$]/.test(source) ? 'bind' : 'volume';
  } else if (isMap(mount)) {
    type = String(mount.type ?? 'volume');
    source = typeof mount.source === 'string' ? mount.source : '';
  } else {
    return 'a volumes entry must be a string or a map';
  }
  if (ENGINE_PATH.test(source)) return `mounts ${source}, which reaches the Docker engine`;
  if (type === 'bind' || type === 'npipe') {
    return `bind mount of ${source} is refused: keep data in the app volume, where it is encrypted and replicated`;
  }
  if (type === 'volume' && source && !(source in volumes)) return `volume "${source}" is not declared under volumes`;
  return null;
}

/** The container ports a service publishes, from the short (`127.0.0.1::8080`) and long syntax. */
function containerPorts(service: Json): number[] {
  return asList(service.ports).map((entry) => {
    if (isMap(entry)) return Number(entry.target);
    const spec = String(entry).split('/')[0];
    const target = spec.slice(spec.lastIndexOf(':') + 1);
    return Number(target.split('-')[0]);
  });
}

/** The names Compose interpolates in the template's values: `${NAME…}` and `$NAME`, not `$$`. */
export function interpolatedVariables(doc: unknown): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(/\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)) {
        const name = match[2] ?? match[3];
        if (name) names.add(name);
      }
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (isMap(value)) Object.values(value).forEach(visit);
  };
  visit(doc);
  return names;
}
