import { REPORT_STALE_AFTER_S, deviceHealth } from './device-health';

describe('deviceHealth', () => {
  const now = Date.parse('2026-12-01T12:00:00.000Z');
  const ago = (s: number) => new Date(now - s * 1000).toISOString();

  it.each([
    ['offline', { online: false, authenticated: false, reportedAt: ago(1) }, 'red'],
    ['connected without a proof', { online: true, authenticated: false, reportedAt: ago(1) }, 'amber'],
    ['proved, no report yet', { online: true, authenticated: true, reportedAt: null }, 'amber'],
    ['proved, report stale', { online: true, authenticated: true, reportedAt: ago(REPORT_STALE_AFTER_S + 1) }, 'amber'],
    ['proved and reporting', { online: true, authenticated: true, reportedAt: ago(REPORT_STALE_AFTER_S) }, 'green'],
  ])('%s is %s', (_label, input, state) => {
    expect(deviceHealth(input, now).state).toBe(state);
  });
});
