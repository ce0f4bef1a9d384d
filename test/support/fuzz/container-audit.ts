import Dockerode from 'dockerode';
import { posix } from 'node:path';

/**
 * What an app container may look like once the engine runs it, checked from `docker inspect`
 * rather than from the compose file: the fuzz's last word on "0 containers outside the policy"
 * (docs/protocol.md 2.2). Independent of the device's own policy code on purpose.
 */
export interface AuditRules {
  /** Capabilities an app may add (the device's ALLOWED_CAPS), without `CAP_`, upper case. */
  allowedCaps: string[];
  /** The device's APPS_DIR: a bind, if any, must be read-only and inside `<appsDir>/<instance>/`. */
  appsDir: string;
  /** The compose project of a container by id or name, for `container:<ref>` namespaces. */
  projectOf(containerRef: string): string | undefined;
}

/** The part of `docker inspect` the audit reads. */
export type InspectedContainer = Pick<Dockerode.ContainerInspectInfo, 'Id' | 'Name' | 'Mounts'> & {
  HostConfig: Partial<Dockerode.HostConfig> & { Runtime?: string; CgroupParent?: string; DeviceRequests?: unknown[] | null };
  Config: { Labels?: Record<string, string> | null };
  NetworkSettings: { Networks?: Record<string, unknown> | null };
};

const PROJECT = /^mosaic-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The labels Compose itself puts on a container; an app may set none under this prefix. */
const COMPOSE_LABELS = new Set(
  [
    'project',
    'service',
    'container-number',
    'oneoff',
    'config-hash',
    'image',
    'version',
    'depends_on',
    'replace',
    'project.config_files',
    'project.working_dir',
    'project.environment_file',
  ].map((l) => `com.docker.compose.${l}`),
);
const SECURITY_OPTS = [
  /^no-new-privileges(?:[=:]true)?$/,
  /^apparmor[=:]docker-default$/,
  /^seccomp[=:](?:default|builtin)$/,
  /^label[=:]type:container_t$/,
];
const ENGINE = [
  /docker\.sock/,
  /containerd\.sock/,
  /^\/(var\/)?run\/docker(\/|$)/,
  /^\/var\/lib\/docker(\/|$)/,
  /^\/(var\/)?run\/?$/,
  /^\/var\/?$/,
  /^\/var\/lib\/?$/,
  /^\/$/,
];
const ANONYMOUS_VOLUME = /^[0-9a-f]{64}$/;

const inside = (folder: string, path: string) => {
  const rel = posix.relative(folder, posix.normalize(path));
  return rel !== '' && rel !== '..' && !rel.startsWith('../') && !posix.isAbsolute(rel);
};

/** Every way `info` steps outside the policy, one line each; [] for a container within it. */
export function auditContainer(info: InspectedContainer, rules: AuditRules): string[] {
  const found: string[] = [];
  const host = info.HostConfig ?? {};
  const labels = info.Config?.Labels ?? {};
  const project = labels['com.docker.compose.project'];
  const service = labels['com.docker.compose.service'];
  if (!project || !PROJECT.test(project)) return [`project: not a Mosaic app's compose project (${JSON.stringify(project)})`];
  const instance = project.slice('mosaic-'.length);

  if (host.Privileged) found.push('privileged: runs privileged');
  const namespace = (what: string, mode: string | undefined, allowed: string[]) => {
    if (!mode || allowed.includes(mode)) return;
    if (mode.startsWith('container:') && rules.projectOf(mode.slice('container:'.length)) === project) return;
    found.push(`${what}: ${mode}`);
  };
  namespace('pid', host.PidMode, ['private']);
  namespace('ipc', host.IpcMode, ['private', 'shareable', 'none']);
  namespace('uts', host.UTSMode, []);
  namespace('userns_mode', host.UsernsMode, []);
  const network = host.NetworkMode ?? '';
  if (network.startsWith('container:')) namespace('network_mode', network, []);
  else if (network !== 'none' && !network.startsWith(`${project}_`))
    found.push(`network_mode: ${network || '(engine default)'} is not the project's own`);
  for (const cap of host.CapAdd ?? []) {
    const name = cap.toUpperCase().replace(/^CAP_/, '');
    if (!rules.allowedCaps.includes(name)) found.push(`cap_add: ${name}`);
  }
  for (const opt of host.SecurityOpt ?? []) if (!SECURITY_OPTS.some((re) => re.test(opt))) found.push(`security_opt: ${opt}`);
  if (host.Devices?.length) found.push(`devices: ${host.Devices.map((d: { PathOnHost?: string }) => d.PathOnHost).join(', ')}`);
  if (host.DeviceRequests?.length) found.push('devices: device requests (gpus)');
  if (host.DeviceCgroupRules?.length) found.push(`devices: cgroup rules ${host.DeviceCgroupRules.join(', ')}`);
  if (host.Runtime && host.Runtime !== 'runc') found.push(`runtime: ${host.Runtime}`);
  if (host.CgroupParent) found.push(`cgroup_parent: ${host.CgroupParent}`);
  if (host.VolumesFrom?.length) found.push(`volumes_from: ${host.VolumesFrom.join(', ')}`);
  if (host.Links?.length) found.push(`links: ${host.Links.join(', ')}`);

  const ownFolder = posix.join(rules.appsDir, instance);
  for (const mount of info.Mounts ?? []) {
    const where = `${mount.Source || mount.Name} -> ${mount.Destination}`;
    if (mount.Type === 'bind' || mount.Type === 'npipe') {
      // A volume's own Source lies under the engine's folder by nature; a bind's must not.
      if (ENGINE.some((re) => re.test(mount.Source))) found.push(`docker_socket: ${where}`);
      if (mount.RW) found.push(`bind: writable ${where}`);
      if (!inside(ownFolder, mount.Source)) found.push(`bind: outside the app's folder ${where}`);
    } else if (mount.Type === 'volume') {
      const name = mount.Name ?? '';
      const own = name === `${project}-app` || name === `${project}-link` || name.startsWith(`${project}_`) || ANONYMOUS_VOLUME.test(name);
      if (!own) found.push(`volume: ${name} is not the app's own`);
    } else if (mount.Type !== 'tmpfs') {
      found.push(`mount: type ${mount.Type} ${where}`);
    }
  }

  for (const key of Object.keys(labels)) {
    const lower = key.toLowerCase();
    if (lower.startsWith('io.mosaic.')) found.push(`label: ${key}`);
    else if (lower.startsWith('com.docker.compose.') && !COMPOSE_LABELS.has(key)) found.push(`label: ${key}`);
  }
  // Compose v2 names a container <project>-<service>-<n>; anything else came from container_name.
  if (!new RegExp(`^/${project}-${escape(service ?? '')}-\\d+$`).test(info.Name)) found.push(`container_name: ${info.Name}`);
  for (const network of Object.keys(info.NetworkSettings?.Networks ?? {})) {
    if (network !== 'none' && !network.startsWith(`${project}_`)) found.push(`network: ${network} is not the project's own`);
  }
  return found;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Audits every container on an engine: its id and name with what is wrong with it (only those with findings). */
export async function auditEngine(
  docker: Dockerode,
  rules: Omit<AuditRules, 'projectOf'>,
): Promise<{ audited: number; outside: Array<{ name: string; findings: string[] }> }> {
  const listed = await docker.listContainers({ all: true });
  const inspected = await Promise.all(listed.map((c) => docker.getContainer(c.Id).inspect()));
  const projects = new Map<string, string | undefined>();
  for (const info of inspected) {
    const project = info.Config.Labels?.['com.docker.compose.project'];
    projects.set(info.Id, project);
    projects.set(info.Name.replace(/^\//, ''), project);
  }
  const projectOf = (ref: string) =>
    projects.get(ref) ?? [...projects.entries()].find(([id]) => ref.length >= 12 && id.startsWith(ref))?.[1];
  const outside = inspected
    .map((info) => ({ name: info.Name, findings: auditContainer(info as InspectedContainer, { ...rules, projectOf }) }))
    .filter((c) => c.findings.length > 0);
  return { audited: inspected.length, outside };
}
