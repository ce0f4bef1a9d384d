import { Injectable } from '@nestjs/common';
import { ChangeFeed } from '../changes/change-feed';
import { ConsoleSettingsRepository } from './console-settings.repository';

/** Two replication intervals of the storage plugin's default (REPLICATION_INTERVAL_S = 3600). */
export const DEFAULT_REPLICATION_WARNING_MINUTES = 120;
export const REPLICATION_WARNING_MAX_MINUTES = 60 * 24 * 30;

export interface ConsoleSettingsView {
  replicationWarningMinutes: number;
}

/** What the operator sets in the Console and every browser shares. */
@Injectable()
export class ConsoleSettingsService {
  constructor(
    private readonly settings: ConsoleSettingsRepository,
    private readonly changes: ChangeFeed,
  ) {}

  async get(): Promise<ConsoleSettingsView> {
    return { replicationWarningMinutes: (await this.settings.find())?.replicationWarningMinutes ?? DEFAULT_REPLICATION_WARNING_MINUTES };
  }

  async update(changes: Partial<ConsoleSettingsView>): Promise<ConsoleSettingsView> {
    const next = { ...(await this.get()), ...changes };
    await this.settings.save({ ...next, updatedAt: new Date().toISOString() });
    this.changes.publish('settings');
    return next;
  }
}
