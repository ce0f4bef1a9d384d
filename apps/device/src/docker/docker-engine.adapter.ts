import { Inject, Injectable } from '@nestjs/common';
import Dockerode from 'dockerode';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';

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

function healthFromStatus(status: string | undefined): string | undefined {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status ?? '');
  if (!match) return undefined;
  return match[1] === 'health: starting' ? 'starting' : match[1];
}

/** Thin adapter around the engine API (dockerode): the only file that imports it. */
@Injectable()
export class DockerEngineAdapter {
  private readonly docker: Dockerode;

  constructor(@Inject(DEVICE_CONFIG) config: DeviceConfig) {
    this.docker = new Dockerode(dockerConnection(config.dockerHost));
  }

  async version(): Promise<{ version: string; apiVersion: string }> {
    const v = await this.docker.version();
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  /** All containers (running or not) that carry every given label (`key` or `key=value`). */
  async listContainers(labels: string[]): Promise<EngineContainer[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: labels } });
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      state: c.State,
      health: healthFromStatus(c.Status),
      labels: c.Labels ?? {},
    }));
  }
}
