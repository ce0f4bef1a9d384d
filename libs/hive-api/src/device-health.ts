/**
 * A device's health circle, the same rule for the Hive's REST API and the Console (which
 * re-evaluates it as time passes, so a device that stops reporting turns amber without a push).
 */
export type HealthState = 'green' | 'amber' | 'red';

export interface DeviceHealth {
  state: HealthState;
  /** One short sentence for people. */
  reason: string;
}

/** A device reports its apps every 30 s by default (REPORT_APPS_INTERVAL_S): four missed reports make it stale. */
export const REPORT_STALE_AFTER_S = 120;

export interface DeviceHealthInput {
  online: boolean;
  authenticated: boolean;
  /** When the Hive received the device's latest report.apps (ISO), null when none came. */
  reportedAt: string | null;
}

export function deviceHealth(device: DeviceHealthInput, now: number = Date.now()): DeviceHealth {
  if (!device.online) return { state: 'red', reason: 'Offline: not connected to the Hive.' };
  if (!device.authenticated) return { state: 'amber', reason: 'Connected, but it has not proved the passphrase.' };
  if (device.reportedAt === null) return { state: 'amber', reason: 'Connected and proved; no report yet.' };
  const ageS = Math.round((now - Date.parse(device.reportedAt)) / 1000);
  if (ageS > REPORT_STALE_AFTER_S) return { state: 'amber', reason: `Connected, but its last report is ${ageS} s old.` };
  return { state: 'green', reason: 'Connected, passphrase proved, reporting.' };
}
