import { APP_STATES, REPLICATION_STATES, ReportAppsDto, ReportVersionDto, ReportVolumesDto } from '@mosaic/protocol';
import { badFields, problems } from '../../../../test/support/payload-problems';


const INSTANCE = '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f';
const AT = '2026-11-25T10:00:00.000Z';
const FINGERPRINT = '0123456789abcdef0123456789abcdef01234567';
const PUBLIC_KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ...\n-----END PGP PUBLIC KEY BLOCK-----\n';

describe('ReportAppsDto (§4: report.apps)', () => {
  const app = (overrides: Record<string, unknown> = {}) => ({
    instance: INSTANCE,
    application: { appstore: 'Mosaic Catalog', name: 'wikijs', version: 'latest' },
    state: 'running',
    containers: [{ service: 'app', containerId: 'a1b2c3', state: 'running', health: 'healthy' }],
    ...overrides,
  });
  const report = (apps: unknown[]) => ({ at: AT, apps });

  it('accepts a report of §4', () => {
    expect(problems(ReportAppsDto, report([app(), app({ state: 'stopped', containers: [] })]))).toEqual([]);
  });

  it.each([['moved'], ['removed']])('accepts a stopped copy with the reason %s', (reason) => {
    expect(problems(ReportAppsDto, report([app({ state: 'stopped', reason })]))).toEqual([]);
  });

  it('accepts a report without apps', () => {
    expect(problems(ReportAppsDto, report([]))).toEqual([]);
  });

  it('knows exactly the five states of §4', () => {
    expect([...APP_STATES].sort()).toEqual(['degraded', 'failed', 'running', 'starting', 'stopped']);
  });

  it.each(APP_STATES.map((state) => [state]))('accepts the state %s', (state) => {
    expect(problems(ReportAppsDto, report([app({ state })]))).toEqual([]);
  });

  it.each([
    ['a state outside §4', [app({ state: 'paused' })], ['apps[0].state']],
    ['a state in upper case', [app({ state: 'RUNNING' })], ['apps[0].state']],
    ['an upper-case instance', [app({ instance: INSTANCE.toUpperCase() })], ['apps[0].instance']],
    ['an app without its application', [app({ application: undefined })], ['apps[0].application']],
    ['an application as a string', [app({ application: 'wikijs' })], ['apps[0].application']],
    ['a bad application name', [app({ application: { appstore: 'a', name: 'Wiki', version: '1' } })], ['apps[0].application.name']],
    ['a bad container in the second app', [app(), app({ containers: [{ service: 'app', containerId: 'c', state: 'up' }] })], ['apps[1].containers[0].state']],
    ['an unknown field in an app', [app({ url: 'http://x' })], ['apps[0].url']],
    ['an unknown reason', [app({ state: 'stopped', reason: 'revoked' })], ['apps[0].reason']],
  ])('refuses %s', (_label, apps, fields) => {
    expect(badFields(ReportAppsDto, report(apps))).toEqual(fields);
  });

  it('refuses an app given inside a nested array', () => {
    expect(badFields(ReportAppsDto, report([[app()]]))).toEqual(['apps']);
  });

  it.each([
    ['apps as an object', { at: AT, apps: { [INSTANCE]: app() } }, 'apps'],
    ['no apps', { at: AT }, 'apps'],
    ['at with an offset', { at: '2026-11-25T11:00:00+01:00', apps: [] }, 'at'],
    ['no at', { apps: [] }, 'at'],
  ])('refuses %s', (_label, input, field) => {
    expect(badFields(ReportAppsDto, input)).toContain(field);
  });
});

describe('ReportVolumesDto (§4: report.volumes)', () => {
  const volume = (overrides: Record<string, unknown> = {}) => ({
    name: `mosaic-${INSTANCE}-app`,
    instance: INSTANCE,
    role: 'app',
    fingerprint: FINGERPRINT,
    publicKey: PUBLIC_KEY,
    lastReplicatedAt: AT,
    replication: { state: 'idle' },
    sizeBytes: 1048576,
    ...overrides,
  });
  const report = (volumes: unknown[]) => ({ at: AT, volumes });

  it('accepts a report of §4', () => {
    expect(problems(ReportVolumesDto, report([volume(), volume({ name: `mosaic-${INSTANCE}-link`, role: 'link' })]))).toEqual([]);
  });

  it('accepts lastReplicatedAt: null until the first replica exists', () => {
    expect(problems(ReportVolumesDto, report([volume({ lastReplicatedAt: null })]))).toEqual([]);
  });

  it.each(REPLICATION_STATES.map((state) => [state]))('accepts the replication state %s', (state) => {
    expect(problems(ReportVolumesDto, report([volume({ replication: { state } })]))).toEqual([]);
  });

  it('accepts a replication error message', () => {
    const replication = { state: 'error', error: 'repository unreachable' };
    expect(problems(ReportVolumesDto, report([volume({ replication })]))).toEqual([]);
  });

  it('accepts sizeBytes 0', () => {
    expect(problems(ReportVolumesDto, report([volume({ sizeBytes: 0 })]))).toEqual([]);
  });

  it.each([
    ['no lastReplicatedAt (it is null, not absent, before the first replica)', volume({ lastReplicatedAt: undefined }), 'volumes[0].lastReplicatedAt'],
    ['a lastReplicatedAt that is not a time', volume({ lastReplicatedAt: 'never' }), 'volumes[0].lastReplicatedAt'],
    ['a lastReplicatedAt with an offset', volume({ lastReplicatedAt: '2026-11-25T10:00:00+02:00' }), 'volumes[0].lastReplicatedAt'],
    ['a role outside app/link', volume({ role: 'data' }), 'volumes[0].role'],
    ['an upper-case fingerprint', volume({ fingerprint: FINGERPRINT.toUpperCase() }), 'volumes[0].fingerprint'],
    ['a 39-digit fingerprint', volume({ fingerprint: FINGERPRINT.slice(1) }), 'volumes[0].fingerprint'],
    ['a 41-digit fingerprint', volume({ fingerprint: FINGERPRINT + '0' }), 'volumes[0].fingerprint'],
    ['a replication state outside §4', volume({ replication: { state: 'done' } }), 'volumes[0].replication.state'],
    ['replication error: null', volume({ replication: { state: 'error', error: null } }), 'volumes[0].replication.error'],
    ['an unknown field in replication', volume({ replication: { state: 'idle', progress: 5 } }), 'volumes[0].replication.progress'],
    ['no replication', volume({ replication: undefined }), 'volumes[0].replication'],
    ['replication as a string', volume({ replication: 'idle' }), 'volumes[0].replication'],
    ['a negative size', volume({ sizeBytes: -1 }), 'volumes[0].sizeBytes'],
    ['a fractional size', volume({ sizeBytes: 1.5 }), 'volumes[0].sizeBytes'],
    ['a size as a string', volume({ sizeBytes: '1024' }), 'volumes[0].sizeBytes'],
    ['an empty publicKey', volume({ publicKey: '' }), 'volumes[0].publicKey'],
    ['an empty name', volume({ name: '' }), 'volumes[0].name'],
  ])('refuses %s', (_label, entry, field) => {
    expect(badFields(ReportVolumesDto, report([entry]))).toEqual([field]);
  });
});

describe('ReportVersionDto (§4: report.version)', () => {
  const report = (overrides: Record<string, unknown> = {}) => ({
    at: AT,
    version: '1.2.3',
    image: 'ghcr.io/mosaic/device:1.2.3',
    autoUpdate: true,
    ...overrides,
  });

  it.each([
    ['a report with an image', report()],
    ['a report without an image', report({ image: undefined })],
    ['a pre-release with build metadata', report({ version: '1.2.3-beta.1+build.5' })],
  ])('accepts %s', (_label, input) => {
    expect(problems(ReportVersionDto, input)).toEqual([]);
  });

  it.each([
    ['autoUpdate: false', report({ autoUpdate: false }), ['autoUpdate']],
    ['autoUpdate as a string', report({ autoUpdate: 'true' }), ['autoUpdate']],
    ['autoUpdate as 1', report({ autoUpdate: 1 }), ['autoUpdate']],
    ['no autoUpdate', report({ autoUpdate: undefined }), ['autoUpdate']],
    ['a version with a v prefix', report({ version: 'v1.2.3' }), ['version']],
    ['a version without a patch number', report({ version: '1.2' }), ['version']],
    ['image: null', report({ image: null }), ['image']],
    ['an empty image', report({ image: '' }), ['image']],
    ['no at', report({ at: undefined }), ['at']],
    ['an unknown field', report({ channel: 'stable' }), ['channel']],
  ])('refuses %s', (_label, input, fields) => {
    expect(badFields(ReportVersionDto, input)).toEqual(fields);
  });
});
