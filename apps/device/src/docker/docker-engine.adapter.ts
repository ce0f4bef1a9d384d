import { Inject, Injectable } from '@nestjs/common';
import type Dockerode from 'dockerode';
import { Writable } from 'node:stream';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { loadDockerode } from './dockerode-loader';

/** dockerode without the ssh2 and gRPC modules it would load for nothing (dockerode-loader.ts). */
const DockerodeClient = loadDockerode();

export interface EngineContainer {
  id: string;
  name: string;
  state: string;
  /** From the status line: "healthy", "unhealthy", "starting", or undefined without a health check. */
  health?: string;
  labels: Record<string, string>;
}

/** DOCKER_HOST as dockerode wants it. */
export function dockerConnection(dockerHost: string): Dockerode.DockerOptions {
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port), protocol: 'http' };
}

export interface ContainerDetails {
  id: string;
  name: string;
  /** The reference it was created from (`Config.Image`), as given: a name, or an id. */
  image: string;
  /** The id of the image it runs. */
  imageId: string;
  running: boolean;
  labels: Record<string, string>;
  /** `source` is the path on the engine's host, for bind mounts and named volumes alike. */
  mounts: { source: string; destination: string }[];
}

/** A restart policy as the engine has it (`HostConfig.RestartPolicy`). */
export interface RestartPolicy {
  Name: string;
  MaximumRetryCount?: number;
}

/** A network attachment as inspect shows it and create/connect take it. */
export interface EndpointConfig {
  Aliases?: string[] | null;
  Links?: string[] | null;
  IPAMConfig?: Record<string, unknown> | null;
  DriverOpts?: Record<string, string> | null;
  MacAddress?: string;
  [other: string]: unknown;
}

/** What the updater reads of `Config` (container or image); the engine's other fields are carried along as they are. */
export interface ContainerConfig {
  Hostname?: string;
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | string | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  Volumes?: Record<string, object> | null;
  ExposedPorts?: Record<string, object> | null;
  Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number } | null;
  Image?: string;
  StopSignal?: string;
  [other: string]: unknown;
}

/** A container as the engine's inspect answers, as far as replacing it by another needs. */
export interface InspectedContainer {
  Id: string;
  Name: string;
  /** The id of its image. */
  Image: string;
  State: {
    Status: string;
    Running: boolean;
    Restarting: boolean;
    ExitCode: number;
    Health?: { Status: string; Log?: Array<{ ExitCode: number; Output: string }> | null };
  };
  Config: ContainerConfig;
  HostConfig: {
    NetworkMode?: string;
    Binds?: string[] | null;
    Mounts?: Array<{ Type: string; Source?: string; Target: string; ReadOnly?: boolean; [other: string]: unknown }> | null;
    RestartPolicy?: RestartPolicy;
    AutoRemove?: boolean;
    PortBindings?: Record<string, unknown> | null;
    [other: string]: unknown;
  };
  NetworkSettings: { Networks?: Record<string, EndpointConfig> | null };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
}

/** An image as inspect answers, as far as telling its defaults from a container's own settings needs. */
export interface InspectedImage {
  Id: string;
  Config: ContainerConfig | null;
}

/** Options for creating a container exactly as given (the updater's copy of another). */
export type CreateOptions = Record<string, unknown> & { name: string; Image: string };

/** A container the device starts itself (the updater, the storage plugin). */
export interface ContainerSpec {
  name: string;
  image: string;
  cmd?: string[];
  env: string[];
  binds: string[];
  labels: Record<string, string>;
  /** Removed when it ends (a one-off), or restarted by the engine unless stopped (a service). */
  lifetime: 'once' | 'service';
}

export interface ExecOutcome {
  execId: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  /** After a timeout, the exec's process on the engine's host when it still ran (the engine does not end it). */
  pid?: number;
}

/** A short-lived container of the device's own: no network, no capabilities but those named. */
export interface HelperSpec {
  name: string;
  image: string;
  cmd: string[];
  labels: Record<string, string>;
  /** `host`: it sees the processes of the engine's host. */
  pidMode?: 'host';
  capabilities: string[];
}

const HELPER_OUTPUT_LIMIT = 64 * 1024;

/** An engine event about a container, reduced to what the device uses. */
export interface EngineEvent {
  action: string;
  containerId: string;
  labels: Record<string, string>;
}

/** Keeps the first `limit` bytes written to it and notes whether more came. */
class CappedBuffer extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const room = this.limit - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.chunks.push(part);
      this.size += part.length;
    }
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The engine did not answer in time: a hung dockerd, or a socket that accepts and says nothing. */
export class EngineTimeoutError extends Error {}

/** A pull is stopped once no progress has come for this long (a registry that stalls). */
export const PULL_STALL_MS = 5 * 60_000;

/** The engine's answer, or undefined when it has no such container or image (404). */
async function unlessMissing<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

function healthFromStatus(status: string | undefined): string | undefined {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status ?? '');
  if (!match) return undefined;
  return match[1] === 'health: starting' ? 'starting' : match[1];
}

/** Thin adapter around the engine API (dockerode): the only file that imports it. */
@Injectable()
export class DockerEngineAdapter {
  private readonly docker: Dockerode;
  private readonly timeoutMs: number;

  private readonly dockerHost: string;

  constructor(@Inject(DEVICE_CONFIG) config: Pick<DeviceConfig, 'dockerHost' | 'engineTimeoutS'>) {
    this.dockerHost = config.dockerHost;
    this.docker = new DockerodeClient(dockerConnection(config.dockerHost));
    this.timeoutMs = config.engineTimeoutS * 1000;
  }

  async version(timeoutMs = this.timeoutMs): Promise<{ version: string; apiVersion: string }> {
    // dockerode reads `abortSignal` here as on every call; only its types leave it out.
    const version = this.docker.version as unknown as (
      this: Dockerode,
      options: { abortSignal: AbortSignal },
    ) => Promise<Dockerode.DockerVersion>;
    const v = await this.call('the version request', (abortSignal) => version.call(this.docker, { abortSignal }), timeoutMs);
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  /** All containers (running or not) that carry every given label (`key` or `key=value`). */
  async listContainers(labels: string[]): Promise<EngineContainer[]> {
    const list = await this.call('a container list', (abortSignal) =>
      this.docker.listContainers({ all: true, filters: { label: labels }, abortSignal }),
    );
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      state: c.State,
      health: healthFromStatus(c.Status),
      labels: c.Labels ?? {},
    }));
  }

  /** A container's name, image and mounts, or undefined when the engine has none by that id or name. */
  async inspectContainer(idOrName: string): Promise<ContainerDetails | undefined> {
    const c = await unlessMissing(
      this.call(`the inspection of ${idOrName}`, (abortSignal) => this.docker.getContainer(idOrName).inspect({ abortSignal })),
    );
    return (
      c && {
        id: c.Id,
        name: c.Name.replace(/^\//, ''),
        image: c.Config.Image,
        imageId: c.Image,
        running: c.State.Running,
        labels: c.Config.Labels ?? {},
        mounts: (c.Mounts ?? []).map((m) => ({ source: m.Source, destination: m.Destination })),
      }
    );
  }

  async hasImage(image: string): Promise<boolean> {
    return (await this.inspectImage(image)) !== undefined;
  }

  /** The id of the image a reference names on this engine, or undefined when it has none. */
  async imageId(image: string): Promise<string | undefined> {
    return (await this.inspectImage(image))?.Id;
  }

  async inspectImage(image: string): Promise<InspectedImage | undefined> {
    return (await unlessMissing(
      this.call(`the inspection of image ${image}`, (abortSignal) =>
        this.docker.getImage(image).inspect({ abortSignal } as Dockerode.ImageInspectOptions),
      ),
    )) as InspectedImage | undefined;
  }

  /**
   * Removes an image that nothing uses any more, never by force: `in_use` when a container uses it
   * or another name refers to it (the engine refuses), `gone` when there is no such image.
   */
  async removeImage(image: string): Promise<'removed' | 'in_use' | 'gone'> {
    try {
      await this.call(`the removal of image ${image}`, (abortSignal) =>
        this.docker.getImage(image).remove({ force: false, noprune: false, abortSignal } as Dockerode.ImageRemoveOptions),
      );
      return 'removed';
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return 'gone';
      if (status === 409) return 'in_use';
      throw err;
    }
  }

  /** Pulls an image; stopped when no progress has come for PULL_STALL_MS, however long it takes in all. */
  async pullImage(image: string): Promise<void> {
    const stalled = new AbortController();
    let timer = setTimeout(() => stalled.abort(), PULL_STALL_MS);
    const progressed = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stalled.abort(), PULL_STALL_MS);
    };
    try {
      const stream = await this.docker.pull(image, { abortSignal: stalled.signal });
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve()), progressed),
      );
    } catch (err) {
      if (stalled.signal.aborted) throw new EngineTimeoutError(`pulling ${image} made no progress for ${PULL_STALL_MS / 1000} s`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Creates and starts a container; returns its id. */
  async runContainer(spec: ContainerSpec): Promise<string> {
    const id = await this.createContainer(spec);
    await this.startContainer(id);
    return id;
  }

  /** Creates a container without starting it; returns its id. */
  async createContainer(spec: ContainerSpec): Promise<string> {
    const container = await this.call(`the creation of container ${spec.name}`, (abortSignal) =>
      this.docker.createContainer({
        abortSignal,
        name: spec.name,
        Image: spec.image,
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
        Env: spec.env,
        Labels: spec.labels,
        HostConfig: {
          Binds: spec.binds,
          ...(spec.lifetime === 'once' ? { AutoRemove: true } : { RestartPolicy: { Name: 'unless-stopped' } }),
        },
      }),
    );
    return container.id;
  }

  /** A container as inspect answers, or undefined when the engine has none by that id or name. */
  async inspectContainerRaw(idOrName: string): Promise<InspectedContainer | undefined> {
    return (await unlessMissing(
      this.call(`the inspection of ${idOrName}`, (abortSignal) => this.docker.getContainer(idOrName).inspect({ abortSignal })),
    )) as InspectedContainer | undefined;
  }

  /** Creates a container from options taken as they are (the updater's copy of another); returns its id. */
  async createContainerFrom(options: CreateOptions): Promise<string> {
    const created = await this.call(`the creation of container ${options.name}`, (abortSignal) =>
      this.docker.createContainer({ ...(options as Dockerode.ContainerCreateOptions), abortSignal }),
    );
    return created.id;
  }

  async connectNetwork(network: string, containerId: string, endpoint: EndpointConfig): Promise<void> {
    await this.call(`connecting ${containerId.slice(0, 12)} to network ${network}`, (abortSignal) =>
      this.docker
        .getNetwork(network)
        .connect({
          Container: containerId,
          EndpointConfig: endpoint as Dockerode.EndpointSettings,
          abortSignal,
        } as Dockerode.NetworkConnectOptions),
    );
  }

  async renameContainer(idOrName: string, name: string): Promise<void> {
    await this.call(`the renaming of ${idOrName}`, (abortSignal) => this.docker.getContainer(idOrName).rename({ name, abortSignal }));
  }

  async setRestartPolicy(idOrName: string, policy: RestartPolicy): Promise<void> {
    await this.call(`the update of ${idOrName}`, (abortSignal) =>
      this.docker.getContainer(idOrName).update({ RestartPolicy: policy, abortSignal }),
    );
  }

  /** Stops a container (SIGTERM, then SIGKILL after `graceS`); nothing if it is not running. */
  async stopContainer(idOrName: string, graceS: number): Promise<void> {
    await this.call(
      `the stop of container ${idOrName}`,
      (abortSignal) => this.docker.getContainer(idOrName).stop({ t: graceS, abortSignal }),
      graceS * 1000 + this.timeoutMs,
    ).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 304) throw err; // 304: not running
    });
  }

  /**
   * Resolves once the container is gone (it ended and the engine removed it, or it never was),
   * or rejects after `timeoutMs`, or when `signal` aborts (the request is dropped with it).
   */
  async waitRemoved(id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`container ${id.slice(0, 12)} was still there after ${Math.round(timeoutMs / 1000)} s`)),
        timeoutMs,
      );
    });
    const wait = this.docker
      .getContainer(id)
      .wait({ condition: 'removed', ...(signal ? { abortSignal: signal } : {}) }) as Promise<unknown>;
    const removed = wait.catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
    try {
      await Promise.race([removed, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a container; nothing if it runs already. */
  async startContainer(idOrName: string): Promise<void> {
    await this.call(`the start of container ${idOrName}`, (abortSignal) => this.docker.getContainer(idOrName).start({ abortSignal })).catch(
      (err: { statusCode?: number }) => {
        if (err.statusCode !== 304) throw err; // 304: already started
      },
    );
  }

  /** Restarts a container, giving it `graceS` to stop on its own (SIGTERM first). */
  async restartContainer(idOrName: string, graceS: number): Promise<void> {
    await this.call(
      `the restart of container ${idOrName}`,
      (abortSignal) => this.docker.getContainer(idOrName).restart({ t: graceS, abortSignal }),
      graceS * 1000 + this.timeoutMs,
    );
  }

  /**
   * Stops a container (SIGTERM, then SIGKILL after `graceS`) and removes it with its anonymous
   * volumes, or without them when another container took them over (`keepVolumes`); nothing if
   * it is gone already.
   */
  async removeContainer(idOrName: string, graceS = 10, keepVolumes = false): Promise<void> {
    try {
      await this.stopContainer(idOrName, graceS);
      await this.call(`the removal of container ${idOrName}`, (abortSignal) =>
        this.docker.getContainer(idOrName).remove({ force: true, v: !keepVolumes, abortSignal }),
      );
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  /** Creates a volume unless one of that name exists; returns its driver. */
  async ensureVolume(name: string, driver: string, labels: Record<string, string>): Promise<string> {
    try {
      const existing = await this.call(`the inspection of volume ${name}`, (abortSignal) =>
        this.docker.getVolume(name).inspect({ abortSignal }),
      );
      return existing.Driver;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
    // The driver creates it (the storage plugin prepared it already): the engine's deadline is enough.
    const created = await this.call(`the creation of volume ${name}`, (abortSignal) =>
      this.docker.createVolume({ Name: name, Driver: driver, Labels: labels, abortSignal }),
    );
    return (created as unknown as { Driver?: string }).Driver ?? driver;
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.call(`the removal of volume ${name}`, (abortSignal) => this.docker.getVolume(name).remove({ abortSignal }));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  /**
   * Follows the engine's container events for containers carrying `label`. Returns a function
   * that stops following; `ended` is called when the stream ends or fails.
   */
  async watchContainers(label: string, onEvent: (event: EngineEvent) => void, ended: (err?: Error) => void): Promise<() => void> {
    // The deadline covers the answer's start only; the stream itself may be quiet for hours.
    const stream = (await this.call('the events request', (abortSignal) =>
      this.docker.getEvents({ filters: { type: ['container'], label: [label] }, abortSignal }),
    )) as NodeJS.ReadableStream & { destroy(): void };
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          const e = JSON.parse(line) as { Action?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
          onEvent({ action: e.Action ?? '', containerId: e.Actor?.ID ?? e.id ?? '', labels: e.Actor?.Attributes ?? {} });
        } catch {
          // A line the engine cut in half; the next report corrects anything missed.
        }
      }
    });
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      ended(err);
    };
    stream.on('end', () => finish());
    stream.on('error', (err: Error) => finish(err));
    return () => {
      done = true;
      stream.destroy();
    };
  }

  /**
   * One engine request with a deadline (ENGINE_TIMEOUT_S unless told): an engine that accepts and
   * never answers must not hold a command, a report or the boot for ever.
   */
  private call<T>(what: string, request: (abortSignal: AbortSignal) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const deadline = new AbortController();
    return new Promise<T>((resolve, reject) => {
      // Raced as well as aborted: not every dockerode call hands the signal on (image inspection does not).
      const timer = setTimeout(() => {
        deadline.abort();
        reject(
          new EngineTimeoutError(`the Docker engine at ${this.dockerHost} did not answer ${what} within ${Math.round(timeoutMs / 1000)} s`),
        );
      }, timeoutMs);
      request(deadline.signal)
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  }

  /** Runs argv in a container without a shell; output is cut at `maxBytes` per stream. */
  async exec(containerId: string, argv: string[], timeoutMs: number, maxBytes: number): Promise<ExecOutcome> {
    const exec = await this.docker
      .getContainer(containerId)
      .exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout = new CappedBuffer(maxBytes);
    const stderr = new CappedBuffer(maxBytes);
    this.docker.modem.demuxStream(stream, stdout, stderr);
    const timedOut = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        stream.destroy();
        resolve(true);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(false);
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
    const inspected = await exec.inspect();
    return {
      execId: exec.id,
      exitCode: timedOut ? 124 : (inspected.ExitCode ?? -1),
      stdout: stdout.text(),
      stderr: stderr.text(),
      truncated: stdout.truncated || stderr.truncated,
      timedOut,
      ...(timedOut && inspected.Running && inspected.Pid > 0 ? { pid: inspected.Pid } : {}),
    };
  }

  /** Whether an exec's process still runs (ExecInspect). */
  async execRunning(execId: string): Promise<boolean> {
    return (await this.docker.getExec(execId).inspect()).Running;
  }

  /**
   * Runs a helper container to its end, then removes it: its exit code and output (a TTY's, so
   * one stream, cut at 64 KiB). Removed, and an error, when it has not ended within `timeoutMs`.
   */
  async runHelper(spec: HelperSpec, timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const container = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Cmd: spec.cmd,
      Labels: spec.labels,
      Tty: true,
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        ...(spec.pidMode ? { PidMode: spec.pidMode } : {}),
        CapDrop: ['ALL'],
        CapAdd: spec.capabilities,
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
      },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      // Attached before the start, so nothing it prints is missed; the stream ends when it does.
      const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
      const output = new CappedBuffer(HELPER_OUTPUT_LIMIT);
      const printed = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      stream.pipe(output);
      await container.start();
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`helper container ${spec.name} did not end within ${timeoutMs} ms`)), timeoutMs);
      });
      const ended = Promise.all([container.wait() as Promise<{ StatusCode: number }>, printed]);
      ended.catch(() => undefined); // after a deadline, the removal below makes the wait fail: nobody listens then
      const [{ StatusCode }] = await Promise.race([ended, deadline]);
      return { exitCode: StatusCode, output: output.text() };
    } finally {
      clearTimeout(timer);
      // A failed removal leaves one stopped container of a unique name behind: nothing trips over it.
      await container.remove({ force: true }).catch(() => undefined);
    }
  }
}
