import { Injectable } from '@nestjs/common';
import { AppReportDto, CONTAINER_HEALTH, CONTAINER_STATES, ContainerDto, Patterns } from '@mosaic/protocol';
import { DockerEngineAdapter, EngineContainer } from '../docker/docker-engine.adapter';
import { AppFilesAdapter, AppMetadata } from './app-files.adapter';
import { appStateOf } from './app-state';

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const PROJECT_PREFIX = 'mosaic-';

/** An app's application when its metadata file is gone (e.g. started by hand). */
const UNKNOWN_APPLICATION = { appstore: 'unknown', name: 'unknown', version: 'unknown' };

export function projectName(instance: string): string {
  return `${PROJECT_PREFIX}${instance}`;
}

export function instanceOfProject(project: string): string | undefined {
  const instance = project.startsWith(PROJECT_PREFIX) ? project.slice(PROJECT_PREFIX.length) : '';
  return Patterns.uuid.test(instance) ? instance : undefined;
}

/** §4: an app's entry in report.apps; `reason` when the Hive stopped this copy saying why. */
function appReport(instance: string, metadata: AppMetadata | undefined, containers: ContainerDto[]): AppReportDto {
  const report: AppReportDto = { instance, application: metadata?.application ?? UNKNOWN_APPLICATION, state: appStateOf(containers), containers };
  if (metadata?.stoppedReason && metadata.desired === 'stopped') report.reason = metadata.stoppedReason;
  return report;
}

function toContainer(c: EngineContainer): ContainerDto {
  const state = (CONTAINER_STATES as readonly string[]).includes(c.state) ? c.state : 'dead';
  const container: ContainerDto = {
    service: c.labels[COMPOSE_SERVICE_LABEL] ?? c.name,
    containerId: c.id,
    state: state as ContainerDto['state'],
  };
  if (c.health && (CONTAINER_HEALTH as readonly string[]).includes(c.health)) {
    container.health = c.health as ContainerDto['health'];
  }
  return container;
}

/** What runs: the `mosaic-<instance>` compose projects on the engine, found by label. */
@Injectable()
export class AppInventoryService {
  constructor(
    private readonly engine: DockerEngineAdapter,
    private readonly files: AppFilesAdapter,
  ) {}

  async apps(): Promise<AppReportDto[]> {
    const containers = await this.engine.listContainers([COMPOSE_PROJECT_LABEL]);
    const byInstance = new Map<string, ContainerDto[]>();
    for (const c of containers) {
      const instance = instanceOfProject(c.labels[COMPOSE_PROJECT_LABEL] ?? '');
      if (!instance) continue;
      const list = byInstance.get(instance) ?? [];
      list.push(toContainer(c));
      byInstance.set(instance, list);
    }
    const reports: AppReportDto[] = [];
    for (const [instance, list] of [...byInstance.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      list.sort((a, b) => a.service.localeCompare(b.service));
      reports.push(appReport(instance, await this.files.readMetadata(instance), list));
    }
    return reports;
  }

  /** One instance as the engine sees it, or undefined when it has no containers. */
  async app(instance: string): Promise<AppReportDto | undefined> {
    const containers = await this.engine.listContainers([`${COMPOSE_PROJECT_LABEL}=${projectName(instance)}`]);
    if (containers.length === 0) return undefined;
    const list = containers.map(toContainer).sort((a, b) => a.service.localeCompare(b.service));
    return appReport(instance, await this.files.readMetadata(instance), list);
  }
}
