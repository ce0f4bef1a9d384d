import Dockerode from 'dockerode';

export const TEST_IMAGE = 'mosaic-test/busybox';

/** What a test looks at and cleans up on one engine: the machine's, or an isolated one. */
export class EngineProbe {
  readonly docker: Dockerode;

  constructor(socketPath: string) {
    this.docker = new Dockerode({ socketPath });
  }

  projectContainers(instance: string): Promise<Dockerode.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=mosaic-${instance}`] } });
  }

  /** The host port on 127.0.0.1 that a container publishes for `privatePort`. */
  async publishedPort(containerId: string, privatePort: number): Promise<number> {
    const info = await this.docker.getContainer(containerId).inspect();
    const bindings = info.NetworkSettings.Ports[`${privatePort}/tcp`] ?? [];
    const binding = bindings.find((b) => b.HostIp === '127.0.0.1') ?? bindings[0];
    if (!binding) throw new Error(`container ${containerId} publishes no port ${privatePort}`);
    return Number(binding.HostPort);
  }

  /** Removes everything of an instance: containers, its network, its two volumes. */
  async removeInstance(instance: string): Promise<void> {
    for (const c of await this.projectContainers(instance)) await this.docker.getContainer(c.Id).remove({ force: true });
    const networks = await this.docker.listNetworks({ filters: { label: [`com.docker.compose.project=mosaic-${instance}`] } });
    for (const n of networks) await this.docker.getNetwork(n.Id).remove().catch(() => undefined);
    for (const role of ['app', 'link']) await this.docker.getVolume(`mosaic-${instance}-${role}`).remove().catch(() => undefined);
  }
}

const machine = new EngineProbe((process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace('unix://', ''));

/** The machine's engine. */
export const engine = machine.docker;
export const projectContainers = (instance: string) => machine.projectContainers(instance);
export const publishedPort = (containerId: string, privatePort: number) => machine.publishedPort(containerId, privatePort);
export const removeInstance = (instance: string) => machine.removeInstance(instance);

/**
 * GET over loopback, resolving with status and body. A container that was just started may not
 * listen yet (the engine's proxy then resets the connection): that is retried for a few seconds.
 */
export async function httpGet(port: number, path = '/', readyWithinMs = 10_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: response.status, body: await response.text() };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
