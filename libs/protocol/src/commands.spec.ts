import {
  AppCommandResultDto,
  AppCommandRunParamsDto,
  COMMAND_CONTRACT,
  COMMAND_TYPES,
  CommandType,
  DiskSpaceResultDto,
  EmptyParamsDto,
  InfoResultDto,
  PrepareResultDto,
  ReplicateResultDto,
  SchedulerPrepareParamsDto,
  SchedulerReplicateParamsDto,
  SchedulerStartParamsDto,
  SchedulerStopParamsDto,
  StartResultDto,
  StopResultDto,
  UpgradeParamsDto,
  UpgradeResultDto,
  isCommandType,
  validatePayload,
} from '@mosaic/protocol';

/** The eight types of docs/protocol.md §2, "The whole set of command types", spelled out by hand. */
const PROTOCOL_TYPES = [
  'SchedulerAction.start',
  'SchedulerAction.stop',
  'SystemCommand.diskSpace',
  'SystemCommand.info',
  'AppCommand.run',
  'UpgradeCommand.run',
  'SchedulerAction.prepare',
  'SchedulerAction.replicate',
];

const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';

/** One valid params and one valid result per type, from the table of §2. */
const EXAMPLES: Record<string, { params: object; result: object }> = {
  'SchedulerAction.start': {
    params: {
      instance: INSTANCE,
      application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: 'latest' },
      compose: 'services: {}\n',
      links: { default: { domain: 'brave-otter.example.net', token: 'secret' } },
      variables: { ADMIN_EMAIL: 'me@example.net' },
      failover: false,
    },
    result: { instance: INSTANCE, state: 'running', containers: [{ service: 'app', containerId: 'c1', state: 'running' }] },
  },
  'SchedulerAction.stop': {
    params: { instance: INSTANCE, replicate: true, remove: false },
    result: { instance: INSTANCE, state: 'stopped', volumes: [{ name: `mosaic-${INSTANCE}-app`, lastReplicatedAt: null }] },
  },
  'SystemCommand.diskSpace': {
    params: {},
    result: { paths: [{ path: '/apps', totalBytes: 100, freeBytes: 50, availableBytes: 40 }] },
  },
  'SystemCommand.info': {
    params: {},
    result: {
      hostname: 'box',
      os: 'linux',
      arch: 'arm64',
      cpus: 4,
      memoryBytes: 8589934592,
      deviceVersion: '0.1.0',
      dockerVersion: '27.3.1',
      composeVersion: '2.29.7',
      storagePluginVersion: '0.1.0',
    },
  },
  'AppCommand.run': {
    params: { instance: INSTANCE, command: 'reset-password', args: { user: 'alice' } },
    result: { exitCode: 0, stdout: '', stderr: '', truncated: false },
  },
  'UpgradeCommand.run': {
    params: {},
    result: { updater: { image: 'ghcr.io/mosaic/device:1.2.3', containerId: 'u1' }, targets: ['mosaic-device'] },
  },
  'SchedulerAction.prepare': {
    params: { instance: INSTANCE },
    result: {
      instance: INSTANCE,
      staged: [
        { name: `mosaic-${INSTANCE}-app`, snapshot: 'a'.repeat(64), snapshotAt: '2026-12-06T10:00:00.000Z', bytes: 1024 },
        { name: `mosaic-${INSTANCE}-link`, snapshot: null, snapshotAt: null, bytes: 0 },
      ],
    },
  },
  'SchedulerAction.replicate': {
    params: { instance: INSTANCE },
    result: {
      instance: INSTANCE,
      volumes: [
        { name: `mosaic-${INSTANCE}-app`, lastReplicatedAt: '2026-12-07T10:00:00.000Z' },
        { name: `mosaic-${INSTANCE}-link`, lastReplicatedAt: '2026-12-07T10:00:00.000Z' },
      ],
    },
  },
};

describe('the command table (§2)', () => {
  it('COMMAND_TYPES holds exactly the eight types of docs/protocol.md', () => {
    expect([...COMMAND_TYPES].sort()).toEqual([...PROTOCOL_TYPES].sort());
  });

  it('CommandType names each of them once', () => {
    expect(Object.values(CommandType).sort()).toEqual([...PROTOCOL_TYPES].sort());
  });

  it('COMMAND_CONTRACT covers exactly the eight types', () => {
    expect(Object.keys(COMMAND_CONTRACT).sort()).toEqual([...PROTOCOL_TYPES].sort());
  });

  it.each([
    ['SchedulerAction.start', SchedulerStartParamsDto, StartResultDto],
    ['SchedulerAction.stop', SchedulerStopParamsDto, StopResultDto],
    ['SystemCommand.diskSpace', EmptyParamsDto, DiskSpaceResultDto],
    ['SystemCommand.info', EmptyParamsDto, InfoResultDto],
    ['AppCommand.run', AppCommandRunParamsDto, AppCommandResultDto],
    ['UpgradeCommand.run', UpgradeParamsDto, UpgradeResultDto],
    ['SchedulerAction.prepare', SchedulerPrepareParamsDto, PrepareResultDto],
    ['SchedulerAction.replicate', SchedulerReplicateParamsDto, ReplicateResultDto],
  ])('%s uses its own params and result DTOs', (type, params, result) => {
    expect(COMMAND_CONTRACT[type as CommandType]).toEqual({ params, result });
  });

  it.each(PROTOCOL_TYPES)('%s: the DTOs of the contract accept the shapes of §2', (type) => {
    const contract = COMMAND_CONTRACT[type as CommandType];
    expect(validatePayload(contract.params, EXAMPLES[type].params)).toMatchObject({ ok: true });
    expect(validatePayload(contract.result, EXAMPLES[type].result)).toMatchObject({ ok: true });
  });

  it.each(PROTOCOL_TYPES)('%s: the params DTO refuses an unknown field', (type) => {
    const contract = COMMAND_CONTRACT[type as CommandType];
    const result = validatePayload(contract.params, { ...EXAMPLES[type].params, run: 'sh -c id' });
    expect(result).toEqual({ ok: false, details: expect.arrayContaining([expect.objectContaining({ field: 'run' })]) });
  });

  it.each(['SystemCommand.diskSpace', 'SystemCommand.info'])('%s takes {} and nothing else', (type) => {
    const { params } = COMMAND_CONTRACT[type as CommandType];
    expect(validatePayload(params, {}).ok).toBe(true);
    expect(validatePayload(params, { path: '/' }).ok).toBe(false);
  });

  it('SchedulerAction.replicate takes an instance and nothing else, and answers each volume with its new snapshot time', () => {
    const { params, result } = COMMAND_CONTRACT[CommandType.SchedulerReplicate];
    expect(validatePayload(params, {}).ok).toBe(false);
    expect(validatePayload(params, { instance: 'not-a-uuid' }).ok).toBe(false);
    expect(validatePayload(params, { instance: INSTANCE, replicate: false }).ok).toBe(false);
    expect(validatePayload(result, { instance: INSTANCE, volumes: [{ name: 'v', lastReplicatedAt: 'yesterday' }] }).ok).toBe(false);
    expect(validatePayload(result, { instance: INSTANCE, state: 'stopped', volumes: [] }).ok).toBe(false);
  });

  it('UpgradeCommand.run takes {} (v1) or a target (v1 + 2026-12-06), and its result the version reached', () => {
    const { params, result } = COMMAND_CONTRACT[CommandType.UpgradeRun];
    expect(validatePayload(params, {}).ok).toBe(true);
    expect(validatePayload(params, { version: '1.3.0', image: 'ghcr.io/mosaic/device:1.3.0' }).ok).toBe(true);
    expect(validatePayload(result, { ...EXAMPLES['UpgradeCommand.run'].result, version: '1.3.0', image: 'ghcr.io/mosaic/device:1.3.0' }).ok).toBe(true);
  });
});

describe('SchedulerAction.prepare (v1 + 2026-12-06)', () => {
  const { params, result } = COMMAND_CONTRACT[CommandType.SchedulerPrepare];

  it('takes an instance, and discard as a boolean only', () => {
    expect(validatePayload(params, { instance: INSTANCE, discard: true }).ok).toBe(true);
    expect(validatePayload(params, { instance: INSTANCE, discard: 'yes' }).ok).toBe(false);
    expect(validatePayload(params, { instance: 'not-a-uuid' }).ok).toBe(false);
    expect(validatePayload(params, {}).ok).toBe(false);
  });

  it('refuses a staged volume whose snapshot is not a restic id, or whose bytes are negative', () => {
    const volume = { name: 'v', snapshot: 'a'.repeat(64), snapshotAt: '2026-12-06T10:00:00.000Z', bytes: 1 };
    expect(validatePayload(result, { instance: INSTANCE, staged: [volume] }).ok).toBe(true);
    expect(validatePayload(result, { instance: INSTANCE, staged: [{ ...volume, snapshot: '../x' }] }).ok).toBe(false);
    expect(validatePayload(result, { instance: INSTANCE, staged: [{ ...volume, bytes: -1 }] }).ok).toBe(false);
  });
});

describe('isCommandType', () => {
  it.each(PROTOCOL_TYPES)('accepts %s', (type) => {
    expect(isCommandType(type)).toBe(true);
  });

  it.each([
    ['a type outside the table', 'SchedulerAction.restart'],
    ['a shell-ish type', 'SystemCommand.exec'],
    ['another case', 'schedulerAction.start'],
    ['a leading space', ' SchedulerAction.start'],
    ['a trailing space', 'SchedulerAction.start '],
    ['the enum key instead of the wire name', 'SchedulerStart'],
    ['only the prefix', 'SchedulerAction'],
    ['empty', ''],
    ['an inherited name', 'toString'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['a number', 1],
    ['null', null],
    ['undefined', undefined],
    ['an object', { type: 'SchedulerAction.start' }],
    ['an array', ['SchedulerAction.start']],
  ])('refuses %s', (_label, value) => {
    expect(isCommandType(value)).toBe(false);
  });
});
