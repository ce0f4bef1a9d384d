import {
  AppCommandResultDto,
  CONTAINER_HEALTH,
  CONTAINER_STATES,
  DiskSpaceResultDto,
  InfoResultDto,
  StartResultDto,
  StopResultDto,
  UpgradeResultDto,
} from '@mosaic/protocol';
import { badFields, problems } from '../../../../test/support/payload-problems';


const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const container = (overrides: Record<string, unknown> = {}) => ({
  service: 'app',
  containerId: 'a1b2c3d4e5f6',
  state: 'running',
  health: 'healthy',
  ...overrides,
});

describe('StartResultDto (SchedulerAction.start)', () => {
  const result = (overrides: Record<string, unknown> = {}) => ({
    instance: INSTANCE,
    state: 'running',
    containers: [container(), container({ service: 'db', health: undefined })],
    ...overrides,
  });

  it('accepts the result of §2', () => {
    expect(problems(StartResultDto, result())).toEqual([]);
  });

  it.each(CONTAINER_STATES.map((state) => [state]))('accepts the Docker container state %s', (state) => {
    expect(problems(StartResultDto, result({ containers: [container({ state })] }))).toEqual([]);
  });

  it.each(CONTAINER_HEALTH.map((health) => [health]))('accepts the Docker health %s', (health) => {
    expect(problems(StartResultDto, result({ containers: [container({ health })] }))).toEqual([]);
  });

  it.each([
    ['state stopped', result({ state: 'stopped' }), ['state']],
    ['a container state Docker does not use', result({ containers: [container({ state: 'up' })] }), ['containers[0].state']],
    ['health: null', result({ containers: [container({ health: null })] }), ['containers[0].health']],
    ['health outside Docker’s words', result({ containers: [container({ health: 'ok' })] }), ['containers[0].health']],
    ['a container without its id', result({ containers: [{ service: 'app', state: 'running' }] }), ['containers[0].containerId']],
    ['a container with an unknown field', result({ containers: [container({ ports: [] })] }), ['containers[0].ports']],
    ['a container that is a string', result({ containers: ['app'] }), ['containers', 'containers[0]']],
    ['a container that is an array', result({ containers: [[container()]] }), ['containers']],
    ['no containers', { instance: INSTANCE, state: 'running' }, ['containers']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(StartResultDto, input)).toEqual(fields);
  });

  it('refuses containers given as an object instead of an array', () => {
    const fields = badFields(StartResultDto, result({ containers: { app: container() } }));
    expect(fields).toContain('containers');
    expect(fields.every((field) => field.startsWith('containers'))).toBe(true);
  });
});

describe('StopResultDto (SchedulerAction.stop)', () => {
  const result = (volumes: unknown) => ({ instance: INSTANCE, state: 'stopped', volumes });

  it.each([
    ['volumes with lastReplicatedAt', [{ name: `mosaic-${INSTANCE}-app`, lastReplicatedAt: '2026-11-25T10:00:00.000Z' }]],
    ['lastReplicatedAt: null (never replicated)', [{ name: `mosaic-${INSTANCE}-link`, lastReplicatedAt: null }]],
    ['no volumes', []],
  ])('accepts %s', (_label, volumes) => {
    expect(problems(StopResultDto, result(volumes))).toEqual([]);
  });

  it.each([
    ['a volume without lastReplicatedAt', [{ name: 'v' }], ['volumes[0].lastReplicatedAt']],
    ['a lastReplicatedAt that is not UTC', [{ name: 'v', lastReplicatedAt: '2026-11-25T10:00:00' }], ['volumes[0].lastReplicatedAt']],
    ['a lastReplicatedAt in epoch ms', [{ name: 'v', lastReplicatedAt: 0 }], ['volumes[0].lastReplicatedAt']],
    ['a volume without a name', [{ lastReplicatedAt: null }], ['volumes[0].name']],
  ])('refuses %s', (_label, volumes, fields) => {
    expect(badFields(StopResultDto, result(volumes))).toEqual(fields);
  });

  it('refuses state running', () => {
    expect(badFields(StopResultDto, { instance: INSTANCE, state: 'running', volumes: [] })).toEqual(['state']);
  });
});

describe('DiskSpaceResultDto (SystemCommand.diskSpace)', () => {
  const path = (overrides: Record<string, unknown> = {}) => ({
    path: '/apps',
    totalBytes: 500_000_000_000,
    freeBytes: 200_000_000_000,
    availableBytes: 180_000_000_000,
    ...overrides,
  });

  it('accepts the result of §2', () => {
    expect(problems(DiskSpaceResultDto, { paths: [path(), path({ path: '/var/lib/mosaic', freeBytes: 0 })] })).toEqual([]);
  });

  it.each([
    ['negative bytes', path({ freeBytes: -1 }), 'paths[0].freeBytes'],
    ['fractional bytes', path({ totalBytes: 1.5 }), 'paths[0].totalBytes'],
    ['bytes as a string', path({ availableBytes: '10' }), 'paths[0].availableBytes'],
    ['an empty path', path({ path: '' }), 'paths[0].path'],
  ])('refuses %s', (_label, entry, field) => {
    expect(badFields(DiskSpaceResultDto, { paths: [entry] })).toEqual([field]);
  });
});

describe('InfoResultDto (SystemCommand.info)', () => {
  const info = {
    hostname: 'box',
    os: 'linux',
    arch: 'x64',
    cpus: 8,
    memoryBytes: 16 * 1024 ** 3,
    deviceVersion: '0.1.0',
    dockerVersion: '27.3.1',
    composeVersion: '2.29.7',
    storagePluginVersion: '0.1.0',
  };

  it('accepts the result of §2', () => {
    expect(problems(InfoResultDto, info)).toEqual([]);
  });

  it.each(Object.keys(info))('refuses a result without %s', (field) => {
    const input: Record<string, unknown> = { ...info };
    delete input[field];
    expect(badFields(InfoResultDto, input)).toEqual([field]);
  });

  it.each([
    ['zero cpus', { ...info, cpus: 0 }, ['cpus']],
    ['memory as a string', { ...info, memoryBytes: '16G' }, ['memoryBytes']],
    ['a version as a number', { ...info, dockerVersion: 27 }, ['dockerVersion']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(InfoResultDto, input)).toEqual(fields);
  });
});

describe('AppCommandResultDto (AppCommand.run)', () => {
  const result = { exitCode: 0, stdout: 'done\n', stderr: '', truncated: false };

  it.each([
    ['exit code 0', result],
    ['a failing exit code, truncated output', { ...result, exitCode: 137, truncated: true }],
  ])('accepts %s', (_label, input) => {
    expect(problems(AppCommandResultDto, input)).toEqual([]);
  });

  it.each([
    ['a fractional exit code', { ...result, exitCode: 1.5 }, ['exitCode']],
    ['stdout: null', { ...result, stdout: null }, ['stdout']],
    ['truncated as a string', { ...result, truncated: 'no' }, ['truncated']],
    ['no stderr', { exitCode: 0, stdout: '', truncated: false }, ['stderr']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(AppCommandResultDto, input)).toEqual(fields);
  });
});

describe('UpgradeResultDto (UpgradeCommand.run)', () => {
  const result = { updater: { image: 'ghcr.io/mosaic/device:1.2.3', containerId: 'abc123' }, targets: ['mosaic-device'] };

  it('accepts the result of §2', () => {
    expect(problems(UpgradeResultDto, result)).toEqual([]);
  });

  it('accepts the version and image a device runs after an upgrade that named its target', () => {
    expect(problems(UpgradeResultDto, { ...result, version: '1.3.0', image: 'ghcr.io/mosaic/device:1.3.0' })).toEqual([]);
  });

  it.each([
    ['no updater', { targets: [] }, ['updater']],
    ['updater: null', { ...result, updater: null }, ['updater']],
    ['updater as an array', { ...result, updater: [result.updater] }, ['updater']],
    ['an updater without its image', { ...result, updater: { containerId: 'abc' } }, ['updater.image']],
    ['targets that are not strings', { ...result, targets: [1] }, ['targets']],
    ['targets as a string', { ...result, targets: 'mosaic-device' }, ['targets']],
    ['a version that is not semver', { ...result, version: 'latest' }, ['version']],
    ['version: null', { ...result, version: null }, ['version']],
    ['an empty image', { ...result, image: '' }, ['image']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(UpgradeResultDto, input)).toEqual(fields);
  });
});
