import Dockerode from 'dockerode';

/** The test's own handle on the real engine, to look at and clean up what a test started. */
export const engine = new Dockerode({ socketPath: (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace('unix://', '') });

export const TEST_IMAGE = 'mosaic-test/busybox';

export async function projectContainers(instance: string): Promise<Dockerode.ContainerInfo[]> {
  return engine.listContainers({ all: true, filters: { label: [`com.docker.compose.project=mosaic-${instance}`] } });
}

/** The host port on 127.0.0.1 that a container publishes for `privatePort`. */
export async function publishedPort(containerId: string, privatePort: number): Promise<number> {
  const info = await engine.getContainer(containerId).inspect();
  const bindings = info.NetworkSettings.Ports[`${privatePort}/tcp`] ?? [];
  const binding = bindings.find((b) => b.HostIp === '127.0.0.1') ?? bindings[0];
  if (!binding) throw new Error(`container ${containerId} publishes no port ${privatePort}`);
  return Number(binding.HostPort);
}

/** Removes everything of an instance: containers, its network, its two volumes. */
export async function removeInstance(instance: string): Promise<void> {
  for (const c of await projectContainers(instance)) await engine.getContainer(c.Id).remove({ force: true });
  const networks = await engine.listNetworks({ filters: { label: [`com.docker.compose.project=mosaic-${instance}`] } });
  for (const n of networks) await engine.getNetwork(n.Id).remove().catch(() => undefined);
  for (const role of ['app', 'link']) await engine.getVolume(`mosaic-${instance}-${role}`).remove().catch(() => undefined);
}

/** GET over loopback, resolving with status and body. */
export async function httpGet(port: number, path = '/'): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}
