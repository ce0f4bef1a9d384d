import { lossWindow } from './loss-window';

const INSTANCE = '2f1c1e0a-6d3b-4c43-9b1e-0b7c3f4f9a10';
const volume = (role: string, lastReplicatedAt: string | null, instance = INSTANCE) => ({
  name: `mosaic-${instance}-${role}`,
  instance,
  role,
  lastReplicatedAt,
  fingerprint: 'a'.repeat(40),
  publicKey: 'k',
  replication: { state: 'idle' },
  sizeBytes: 1,
});
const report = (...volumes: ReturnType<typeof volume>[]) => ({ at: '2026-11-25T10:00:00Z', volumes }) as never;
const NOW = new Date('2026-11-25T10:00:00.000Z');

describe('lossWindow', () => {
  it('is the age of the newest replica of the instance, compared as times, not text', () => {
    // '…09:59:59Z' sorts after '…09:59:59.900Z' as text, but is older.
    const window = lossWindow(report(volume('app', '2026-11-25T09:59:59.900Z'), volume('link', '2026-11-25T09:59:59Z')), INSTANCE, NOW);
    expect(window).toEqual({
      lastReplicatedAt: '2026-11-25T09:59:59.900Z',
      ageSeconds: 0,
      reportedAt: '2026-11-25T10:00:00Z',
      volumes: [
        { name: `mosaic-${INSTANCE}-app`, role: 'app', lastReplicatedAt: '2026-11-25T09:59:59.900Z' },
        { name: `mosaic-${INSTANCE}-link`, role: 'link', lastReplicatedAt: '2026-11-25T09:59:59Z' },
      ],
    });
  });

  it('ignores other instances and volumes never replicated', () => {
    const window = lossWindow(
      report(volume('app', null), volume('link', '2026-11-25T08:00:00Z'), volume('app', '2026-11-25T09:59:00Z', 'another-instance')),
      INSTANCE,
      NOW,
    );
    expect(window).toMatchObject({ lastReplicatedAt: '2026-11-25T08:00:00Z', ageSeconds: 7200 });
    expect(window.volumes.map((v) => v.role)).toEqual(['app', 'link']);
  });

  it('has no figures without a report or without any replica', () => {
    expect(lossWindow(null, INSTANCE, NOW)).toEqual({ lastReplicatedAt: null, ageSeconds: null, reportedAt: null, volumes: [] });
    expect(lossWindow(report(volume('app', null)), INSTANCE, NOW)).toMatchObject({ lastReplicatedAt: null, ageSeconds: null });
  });

  it('never goes negative when the device clock is ahead', () => {
    expect(lossWindow(report(volume('app', '2026-11-25T10:00:05Z')), INSTANCE, NOW).ageSeconds).toBe(0);
  });
});
