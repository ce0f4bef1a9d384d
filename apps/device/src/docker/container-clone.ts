import { isDeepStrictEqual } from 'node:util';
import { ContainerConfig, CreateOptions, EndpointConfig, InspectedContainer, InspectedImage } from './docker-engine.adapter';

/** What creates a container again: the create call, then the networks to connect before it starts. */
export interface RecreatePlan {
  create: CreateOptions;
  /** Networks beyond the first: an engine before API 1.44 takes only one at create. */
  networks: Array<{ name: string; endpoint: EndpointConfig }>;
}

type Healthcheck = NonNullable<ContainerConfig['Healthcheck']>;
const HEALTH_FIELDS = ['Test', 'Interval', 'Timeout', 'StartPeriod', 'Retries'] as const;
/** A deep copy; the engine's answers are JSON, so JSON copies them exactly (and in this realm, unlike structuredClone under Jest). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** Network modes without endpoints of their own. */
const NO_ENDPOINTS = /^(host|none|container:.*)$/;

/** The image's own value of a health check field is dropped, so the new image's applies (0 and no Test mean "the image's"). */
function ownHealthcheck(container: Healthcheck | null | undefined, image: Healthcheck | null | undefined): Healthcheck | undefined {
  if (!container) return undefined;
  const own: Healthcheck = {};
  for (const field of HEALTH_FIELDS) {
    const value = container[field];
    if (value === undefined || value === null || isDeepStrictEqual(value, image?.[field])) continue;
    (own as Record<string, unknown>)[field] = value;
  }
  return Object.keys(own).length ? own : undefined;
}

function without<T>(
  own: Record<string, T> | null | undefined,
  image: Record<string, T> | null | undefined,
  same: (a: T, b: T) => boolean,
): Record<string, T> {
  return Object.fromEntries(Object.entries(own ?? {}).filter(([key, value]) => !(image && key in image && same(value, image[key]))));
}

/**
 * The container's own settings, without what it only took from its image: a value equal to the
 * old image's default is the image's (Watchtower's rule), so the new image's default replaces it.
 */
function ownConfig(container: InspectedContainer, image: ContainerConfig): ContainerConfig {
  const config = copy(container.Config);
  if (config.WorkingDir === image.WorkingDir) delete config.WorkingDir;
  if (config.User === image.User) delete config.User;
  if (config.StopSignal === image.StopSignal) delete config.StopSignal;
  if (isDeepStrictEqual(config.Entrypoint ?? null, image.Entrypoint ?? null)) {
    delete config.Entrypoint;
    if (isDeepStrictEqual(config.Cmd ?? null, image.Cmd ?? null)) delete config.Cmd;
  }
  const healthcheck = ownHealthcheck(config.Healthcheck, image.Healthcheck);
  if (healthcheck) config.Healthcheck = healthcheck;
  else delete config.Healthcheck;
  const imageEnv = new Set(image.Env ?? []);
  config.Env = (config.Env ?? []).filter((entry) => !imageEnv.has(entry));
  config.Labels = without(config.Labels, image.Labels, (a, b) => a === b);
  config.Volumes = without(config.Volumes, image.Volumes, () => true);
  // Published ports stay exposed whether the image exposes them or not.
  config.ExposedPorts = without(config.ExposedPorts, image.ExposedPorts, () => true);
  for (const port of Object.keys(container.HostConfig.PortBindings ?? {})) config.ExposedPorts[port] = {};
  // The engine named it after the old container's id: the new one gets its own, as compose would give it.
  if (container.HostConfig.NetworkMode?.startsWith('container:') || config.Hostname === container.Id.slice(0, 12)) delete config.Hostname;
  return config;
}

/**
 * Mounts the container has that its configuration does not name: anonymous volumes (the image's
 * VOLUMEs, `-v /path`). They hold its state, so the new container takes them over by name.
 */
function anonymousVolumes(container: InspectedContainer): NonNullable<InspectedContainer['HostConfig']['Mounts']> {
  const named = new Set<string>([
    ...(container.HostConfig.Binds ?? []).map((bind) => bind.split(':')[1]),
    ...(container.HostConfig.Mounts ?? []).map((mount) => mount.Target),
  ]);
  return container.Mounts.filter((m) => m.Type === 'volume' && m.Name && !named.has(m.Destination)).map((m) => ({
    Type: 'volume',
    Source: m.Name,
    Target: m.Destination,
    ReadOnly: !m.RW,
  }));
}

/** An attachment's settings, not its state (addresses, ids); the old container's own id is no alias of the new one. */
function endpointSettings(endpoint: EndpointConfig, oldId: string): EndpointConfig {
  const settings: EndpointConfig = {};
  const aliases = (endpoint.Aliases ?? []).filter((alias) => !oldId.startsWith(alias) || alias.length < 12);
  if (aliases.length) settings.Aliases = aliases;
  if (endpoint.Links?.length) settings.Links = endpoint.Links;
  if (endpoint.IPAMConfig && Object.keys(endpoint.IPAMConfig).length) settings.IPAMConfig = endpoint.IPAMConfig;
  if (endpoint.DriverOpts && Object.keys(endpoint.DriverOpts).length) settings.DriverOpts = endpoint.DriverOpts;
  return settings;
}

/**
 * How to create `container` again from `image` with exactly its configuration: name, mounts (its
 * anonymous volumes too), environment, secrets, restart policy, labels, networks with their
 * aliases and addresses; only what it took from `oldImage`'s defaults follows the new image.
 */
export function recreatePlan(container: InspectedContainer, oldImage: InspectedImage, image: string): RecreatePlan {
  const config = ownConfig(container, oldImage.Config ?? {});
  const hostConfig = copy(container.HostConfig);
  const anonymous = anonymousVolumes(container);
  if (anonymous.length) hostConfig.Mounts = [...(hostConfig.Mounts ?? []), ...anonymous];

  const mode = hostConfig.NetworkMode ?? 'default';
  const attached = Object.entries(container.NetworkSettings.Networks ?? {});
  const primaryName = mode === 'default' ? 'bridge' : mode;
  const primary = NO_ENDPOINTS.test(mode) ? undefined : attached.find(([name]) => name === primaryName);
  const others = NO_ENDPOINTS.test(mode) ? [] : attached.filter(([name]) => name !== primaryName);

  return {
    create: {
      ...config,
      name: container.Name.replace(/^\//, ''),
      Image: image,
      HostConfig: hostConfig,
      ...(primary ? { NetworkingConfig: { EndpointsConfig: { [primary[0]]: endpointSettings(primary[1], container.Id) } } } : {}),
    },
    networks: others.map(([name, endpoint]) => ({ name, endpoint: endpointSettings(endpoint, container.Id) })),
  };
}
