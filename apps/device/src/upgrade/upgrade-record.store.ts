import { Logger } from '@nestjs/common';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { StateFileAdapter } from '../common/state-file.adapter';
import type { RollbackReason } from '../docker/container-swap';

/** Where the updater container has the engine's socket and this folder: the device mounts them there. */
export const UPDATER_SOCKET = '/var/run/docker.sock';
export const UPDATER_RECORDS_DIR = '/var/lib/mosaic/upgrade';

/**
 * An upgrade as the device that starts it hands it to the updater: what to replace, with what.
 * Written by that device before the updater starts; read by the updater and by whichever device
 * runs once it has ended (they share STATE_DIR).
 */
export interface UpgradePlan {
  /** The UpgradeCommand.run this is; its result is sent once the upgrade has ended. */
  commandId: string;
  createdAt: string;
  /** UPGRADE_TIMEOUT_S of the device that started it. */
  timeoutS: number;
  /** Whether the command named a target (then its result says what runs: §2.6). */
  named: boolean;
  device: { containerId: string; name: string };
  from: { image: string; imageId: string; version: string };
  to: { image: string; imageId: string; version?: string };
  /** The updater container, once created. */
  updater?: { containerId: string; image: string };
}

/** How it ended, written by the updater as its last act. */
export interface UpgradeOutcome {
  commandId: string;
  outcome: 'succeeded' | 'rolled_back' | 'failed';
  /** Why the new version was not taken (rolled_back). */
  reason?: RollbackReason;
  /** What happened, for a person (rolled_back, failed). */
  message?: string;
  finishedAt: string;
  /** Milliseconds from the updater's start to each step it took, for the log and the figures. */
  steps: Record<string, number>;
}

/** A device's report.version the Hive acknowledged, while an upgrade waited for it. */
export interface VersionAcknowledged {
  containerId: string;
  version: string;
  at: string;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isPlan(v: unknown): v is UpgradePlan {
  if (!isObject(v) || !isObject(v.device) || !isObject(v.from) || !isObject(v.to)) return false;
  return (
    isString(v.commandId) &&
    isString(v.createdAt) &&
    typeof v.timeoutS === 'number' &&
    typeof v.named === 'boolean' &&
    isString(v.device.containerId) &&
    isString(v.device.name) &&
    isString(v.from.image) &&
    isString(v.from.imageId) &&
    isString(v.to.image) &&
    isString(v.to.imageId) &&
    (v.to.version === undefined || isString(v.to.version)) &&
    (v.updater === undefined || (isObject(v.updater) && isString(v.updater.containerId) && isString(v.updater.image)))
  );
}

function isOutcome(v: unknown): v is UpgradeOutcome {
  return (
    isObject(v) &&
    isString(v.commandId) &&
    ['succeeded', 'rolled_back', 'failed'].includes(v.outcome as string) &&
    isString(v.finishedAt) &&
    isObject(v.steps)
  );
}

function isAcknowledged(v: unknown): v is VersionAcknowledged {
  return isObject(v) && isString(v.containerId) && isString(v.version) && isString(v.at);
}

/**
 * The folder an upgrade's device and updater share (STATE_DIR/upgrade on the device, mounted into
 * the updater). Each file has one writer: the plan the device that starts the upgrade, the
 * acknowledgement the device that runs, the outcome the updater. A file that does not have its
 * shape counts as absent (and is logged): a verdict is never guessed.
 */
export class UpgradeRecordStore {
  private readonly logger = new Logger('Upgrade');

  constructor(
    readonly dir: string,
    private readonly files: StateFileAdapter,
  ) {}

  plan(): UpgradePlan | undefined {
    return this.read('plan.json', isPlan);
  }

  /** A new plan: the outcome and acknowledgement of an earlier upgrade go. */
  startPlan(plan: UpgradePlan): void {
    for (const name of ['outcome.json', 'acknowledged.json']) rmSync(join(this.dir, name), { force: true });
    this.files.writeNow(join(this.dir, 'plan.json'), JSON.stringify(plan));
  }

  updatePlan(plan: UpgradePlan): void {
    this.files.writeNow(join(this.dir, 'plan.json'), JSON.stringify(plan));
  }

  /** The outcome of that command's upgrade, once the updater wrote it. */
  outcome(commandId: string): UpgradeOutcome | undefined {
    const outcome = this.read('outcome.json', isOutcome);
    return outcome?.commandId === commandId ? outcome : undefined;
  }

  writeOutcome(outcome: UpgradeOutcome): void {
    this.files.writeNow(join(this.dir, 'outcome.json'), JSON.stringify(outcome));
  }

  acknowledged(): VersionAcknowledged | undefined {
    return this.read('acknowledged.json', isAcknowledged);
  }

  writeAcknowledged(ack: VersionAcknowledged): void {
    this.files.writeNow(join(this.dir, 'acknowledged.json'), JSON.stringify(ack));
  }

  private read<T>(name: string, shaped: (v: unknown) => v is T): T | undefined {
    const value = this.files.read<unknown>(join(this.dir, name));
    if (value === undefined) return undefined;
    if (shaped(value)) return value;
    this.logger.warn(`${join(this.dir, name)} does not have its shape; it is taken as absent`);
    return undefined;
  }
}
