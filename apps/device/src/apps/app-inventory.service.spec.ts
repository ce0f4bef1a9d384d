import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReportAppsDto, validatePayload } from '@mosaic/protocol';
import { TempDirs, deviceConfig } from '../../../../test/support/device-fixtures';
import { strictFake } from '../../../../test/support/strict-fake';
import { DockerEngineAdapter, EngineContainer } from '../docker/docker-engine.adapter';
import { AppFilesAdapter } from './app-files.adapter';
import { AppInventoryService, instanceOfProject, projectName } from './app-inventory.service';

const A = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const B = 'c232ab00-9414-11ec-b3c8-9f6bdeced846';
const WIKI = { appstore: 'Mosaic Catalog', name: 'wikijs', version: '2.5' };

function container(project: string | undefined, service: string, state: string, extra: Partial<EngineContainer> = {}): EngineContainer {
  const labels: Record<string, string> = { 'com.docker.compose.service': service };
  if (project !== undefined) labels['com.docker.compose.project'] = project;
  return { id: `${project}-${service}-id`, name: `${project}-${service}-1`, state, labels, ...extra };
}

describe('AppInventoryService', () => {
  const dirs = new TempDirs();
  let appsDir: string;
  let listContainers: jest.Mock<Promise<EngineContainer[]>, [string[]]>;
  let inventory: AppInventoryService;

  beforeEach(() => {
    appsDir = dirs.make();
    listContainers = jest.fn();
    const engine = strictFake<DockerEngineAdapter>({ listContainers }, 'DockerEngineAdapter');
    inventory = new AppInventoryService(engine, new AppFilesAdapter(deviceConfig({ appsDir })));
  });
  afterEach(() => dirs.cleanup());

  function metadata(instance: string, content: unknown): void {
    mkdirSync(join(appsDir, instance), { recursive: true });
    writeFileSync(join(appsDir, instance, 'mosaic.json'), typeof content === 'string' ? content : JSON.stringify(content));
  }

  it('asks the engine for every compose container, running or not', async () => {
    listContainers.mockResolvedValue([]);
    await expect(inventory.apps()).resolves.toEqual([]);
    expect(listContainers).toHaveBeenCalledWith(['com.docker.compose.project']);
  });

  it('reports only mosaic-<uuid> projects, one entry per instance with its containers', async () => {
    metadata(A, { application: WIKI });
    listContainers.mockResolvedValue([
      container(`mosaic-${A}`, 'db', 'running', { id: 'db1', health: 'healthy' }),
      container('portainer', 'app', 'running'),
      container(`mosaic-${B}`, 'app', 'exited', { id: 'b-app' }),
      container('mosaic-not-a-uuid', 'app', 'running'),
      container(`mosaic-${A.toUpperCase()}`, 'app', 'running'),
      container(`mosaic-${A}-extra`, 'app', 'running'),
      container(`x-mosaic-${A}`, 'app', 'running'),
      container(A, 'app', 'running'),
      container(undefined, 'app', 'running'),
      container(`mosaic-${A}`, 'app', 'running', { id: 'app1' }),
    ]);
    const apps = await inventory.apps();
    expect(apps).toEqual([
      {
        instance: A,
        application: WIKI,
        state: 'running',
        containers: [
          { service: 'app', containerId: 'app1', state: 'running' },
          { service: 'db', containerId: 'db1', state: 'running', health: 'healthy' },
        ],
      },
      {
        instance: B,
        application: { appstore: 'unknown', name: 'unknown', version: 'unknown' },
        state: 'stopped',
        containers: [{ service: 'app', containerId: 'b-app', state: 'exited' }],
      },
    ]);
    expect(validatePayload(ReportAppsDto, { at: '2026-11-25T10:00:00.000Z', apps }).ok).toBe(true);
  });

  it('says why the Hive stopped a copy (reason moved or removed), and only while it should stay stopped', async () => {
    metadata(A, { application: WIKI, desired: 'stopped', stoppedReason: 'moved' });
    metadata(B, { application: WIKI, desired: 'running', stoppedReason: 'removed' });
    listContainers.mockResolvedValue([container(`mosaic-${A}`, 'app', 'exited'), container(`mosaic-${B}`, 'app', 'running')]);
    const apps = await inventory.apps();
    expect(apps.map((app) => [app.instance, app.state, app.reason])).toEqual([
      [A, 'stopped', 'moved'],
      [B, 'running', undefined],
    ]);
    expect(validatePayload(ReportAppsDto, { at: '2026-11-25T10:00:00.000Z', apps }).ok).toBe(true);
    metadata(A, { application: WIKI, desired: 'stopped', stoppedReason: 'revoked' });
    expect((await inventory.apps())[0]).not.toHaveProperty('reason');
  });

  it('derives each app’s state from its own containers', async () => {
    listContainers.mockResolvedValue([
      container(`mosaic-${A}`, 'app', 'running'),
      container(`mosaic-${A}`, 'worker', 'restarting'),
      container(`mosaic-${B}`, 'app', 'running', { health: 'unhealthy' }),
    ]);
    const apps = await inventory.apps();
    expect(apps.map((a) => [a.instance, a.state])).toEqual([
      [A, 'failed'],
      [B, 'degraded'],
    ]);
  });

  it.each([
    ['no mosaic.json', undefined],
    ['mosaic.json that is not JSON', '{"application":'],
    ['mosaic.json without application', { other: 1 }],
    ['an application that fails its DTO', { application: { ...WIKI, name: 'Not Valid!' } }],
    ['an application with an unknown field', { application: { ...WIKI, image: 'evil' } }],
  ])('reports the application as unknown with %s', async (_label, content) => {
    if (content !== undefined) metadata(A, content);
    listContainers.mockResolvedValue([container(`mosaic-${A}`, 'app', 'running')]);
    const [app] = await inventory.apps();
    expect(app.application).toEqual({ appstore: 'unknown', name: 'unknown', version: 'unknown' });
  });

  it('reads the metadata of each instance from APPS_DIR/<instance>/mosaic.json', async () => {
    const other = { appstore: 'Mosaic Catalog', name: 'nextcloud', version: '29.0.1' };
    metadata(A, { application: WIKI });
    metadata(B, { application: other });
    listContainers.mockResolvedValue([container(`mosaic-${B}`, 'app', 'running'), container(`mosaic-${A}`, 'app', 'running')]);
    const apps = await inventory.apps();
    expect(apps.map((a) => a.application)).toEqual([WIKI, other]);
  });

  it('uses the container name when the service label is missing, and drops a health word Docker does not use', async () => {
    listContainers.mockResolvedValue([
      { id: 'x1', name: 'lonely', state: 'running', health: 'weird', labels: { 'com.docker.compose.project': `mosaic-${A}` } },
    ]);
    const [app] = await inventory.apps();
    expect(app.containers).toEqual([{ service: 'lonely', containerId: 'x1', state: 'running' }]);
  });

  describe('app(instance)', () => {
    it('asks the engine for that one project and reports it', async () => {
      metadata(A, { application: WIKI });
      listContainers.mockResolvedValue([container(`mosaic-${A}`, 'web', 'running', { id: 'w' }), container(`mosaic-${A}`, 'app', 'exited', { id: 'a' })]);
      await expect(inventory.app(A)).resolves.toEqual({
        instance: A,
        application: WIKI,
        state: 'degraded',
        containers: [
          { service: 'app', containerId: 'a', state: 'exited' },
          { service: 'web', containerId: 'w', state: 'running' },
        ],
      });
      expect(listContainers).toHaveBeenCalledWith([`com.docker.compose.project=mosaic-${A}`]);
    });

    it('answers undefined for an instance without containers', async () => {
      listContainers.mockResolvedValue([]);
      await expect(inventory.app(B)).resolves.toBeUndefined();
    });
  });

  it('lets an engine failure through to the caller', async () => {
    listContainers.mockRejectedValue(new Error('connect ENOENT /var/run/docker.sock'));
    await expect(inventory.apps()).rejects.toThrow('ENOENT');
  });
});

describe('projectName / instanceOfProject', () => {
  it('name the compose project mosaic-<instance> and read it back', () => {
    expect(projectName(A)).toBe(`mosaic-${A}`);
    expect(instanceOfProject(projectName(A))).toBe(A);
  });

  it.each(['mosaic-', 'mosaic-abc', `Mosaic-${A}`, `mosaic-${A}x`, A, ''])('find no instance in %p', (project) => {
    expect(instanceOfProject(project)).toBeUndefined();
  });
});
