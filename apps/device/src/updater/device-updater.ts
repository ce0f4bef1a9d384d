import { Logger } from '@nestjs/common';
import { compareSemver } from '@mosaic/protocol';
import { recreatePlan } from '../docker/container-clone';
import { ContainerSwap, SwapRefused, SwapResult } from '../docker/container-swap';
import { DockerEngineAdapter, InspectedContainer } from '../docker/docker-engine.adapter';
import { UpgradeOutcome, UpgradePlan, UpgradeRecordStore } from '../upgrade/upgrade-record.store';

/** How long the old device has to stop by itself (it closes its Hive link and its files). */
export const DEVICE_STOP_GRACE_S = 30;
/** How often the new container's state is looked at while the updater waits for it. */
export const VERIFY_POLL_MS = 1000;
/** The last health check output quoted in a rollback's reason. */
const HEALTH_OUTPUT_CHARS = 300;

/** Time and waiting, injectable so a test runs the updater's deadline on a fake clock. */
export interface UpdaterTime {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTime: UpdaterTime = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

type Verdict = Omit<UpgradeOutcome, 'commandId' | 'finishedAt' | 'steps'>;

function lastHealthOutput(container: InspectedContainer): string {
  const log = container.State.Health?.Log ?? [];
  const output = log.at(-1)?.Output.trim();
  return output ? `: ${output.slice(0, HEALTH_OUTPUT_CHARS)}` : '';
}

/**
 * Mosaic's updater (`node dist/apps/device/main.js updater`): a one-off container of the old
 * device's image, so known code decides. It replaces the device container by one of the same
 * configuration from the target image, keeps the old one until the new one is healthy AND the
 * Hive acknowledged its version, and puts the old one back otherwise. Its last act is to write
 * the outcome, which the device that then runs reports as the command's result.
 */
export class DeviceUpdater {
  private readonly logger = new Logger('Updater');

  constructor(
    private readonly engine: DockerEngineAdapter,
    private readonly swap: ContainerSwap,
    private readonly records: UpgradeRecordStore,
    private readonly time: UpdaterTime = realTime,
  ) {}

  /** Carries out the plan in the records folder; undefined when there is none to carry out. */
  async run(): Promise<UpgradeOutcome | undefined> {
    const started = this.time.now();
    const plan = this.records.plan();
    if (!plan) {
      this.logger.error(`no upgrade plan in ${this.records.dir}`);
      return undefined;
    }
    const done = this.records.outcome(plan.commandId);
    if (done) return done; // run again after it ended: nothing more to do
    const steps: Record<string, number> = {};
    const verdict = await this.upgrade(plan, (step) => {
      steps[step] = this.time.now() - started;
      this.logger.log(`${step} after ${steps[step]} ms`);
    }).catch((err: Error): Verdict => ({ outcome: 'failed', message: `The updater failed before it changed anything: ${err.message}` }));
    const outcome: UpgradeOutcome = { commandId: plan.commandId, ...verdict, finishedAt: new Date(this.time.now()).toISOString(), steps };
    this.records.writeOutcome(outcome);
    this.logger.log(`upgrade ${plan.commandId} to ${plan.to.image}: ${outcome.outcome}${outcome.message ? ` (${outcome.message})` : ''}`);
    return outcome;
  }

  private async upgrade(plan: UpgradePlan, onStep: (step: string) => void): Promise<Verdict> {
    const old = await this.engine.inspectContainerRaw(plan.device.containerId);
    if (!old)
      return { outcome: 'failed', message: `The device container ${plan.device.name} (${plan.device.containerId.slice(0, 12)}) is gone.` };
    if (old.Image === plan.to.imageId) return { outcome: 'succeeded' }; // it runs the target already
    if (old.HostConfig.AutoRemove) {
      return {
        outcome: 'failed',
        message: `${plan.device.name} runs with --rm: stopped, it would be gone and could not be put back; create it without --rm to upgrade it.`,
      };
    }
    const oldImage = (await this.engine.inspectImage(old.Image)) ?? { Id: old.Image, Config: null };
    const recreate = recreatePlan(old, oldImage, plan.to.image);
    const result = await this.swap.swap({
      old: {
        id: old.Id,
        name: plan.device.name,
        running: old.State.Running,
        restartPolicy: old.HostConfig.RestartPolicy ?? { Name: 'no' },
      },
      asideName: `${plan.device.name}-previous-${plan.commandId.slice(0, 8)}`,
      stopGraceS: DEVICE_STOP_GRACE_S,
      create: () => this.create(recreate, plan),
      verify: (id) => this.verify(id, plan),
      onStep,
    });
    return this.verdict(plan, result);
  }

  /** Creates the new container with its networks; it must run the image the device pulled (a tag can move). */
  private async create(recreate: ReturnType<typeof recreatePlan>, plan: UpgradePlan): Promise<string> {
    const id = await this.engine.createContainerFrom(recreate.create);
    try {
      for (const network of recreate.networks) await this.engine.connectNetwork(network.name, id, network.endpoint);
      const created = await this.engine.inspectContainerRaw(id);
      if (created?.Image !== plan.to.imageId)
        throw new Error(`${plan.to.image} names another image than the one pulled (${plan.to.imageId.slice(0, 19)}); it moved meanwhile`);
      return id;
    } catch (err) {
      // Its name is the old container's: it must go before that one can take its name back.
      await this.engine.removeContainer(id, 0, true).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Waits until the new container is healthy (running, without a health check) and the Hive
   * acknowledged its report.version (of the target version, when the command named one). An
   * exit, an unhealthy verdict, another version or the deadline refuse it.
   */
  private async verify(id: string, plan: UpgradePlan): Promise<void> {
    const deadline = this.time.now() + plan.timeoutS * 1000;
    for (;;) {
      const container = await this.engine.inspectContainerRaw(id);
      if (!container) throw new SwapRefused('exited', 'the new container is gone');
      if (container.State.Restarting || !container.State.Running)
        throw new SwapRefused('exited', `it exited with status ${container.State.ExitCode}`);
      const health = container.State.Health?.Status;
      if (health === 'unhealthy') throw new SwapRefused('unhealthy', `its health check failed${lastHealthOutput(container)}`);
      const ack = this.records.acknowledged();
      const acknowledged = ack?.containerId === id;
      if (acknowledged && plan.to.version && !this.sameVersion(ack.version, plan.to.version)) {
        throw new SwapRefused('wrong_version', `it runs version ${ack.version}, not ${plan.to.version}`);
      }
      const healthy = health === undefined || health === 'healthy';
      if (healthy && acknowledged) return;
      if (this.time.now() >= deadline) {
        throw new SwapRefused(
          'timeout',
          healthy
            ? `the Hive did not acknowledge its version within ${plan.timeoutS} s`
            : `it did not turn healthy within ${plan.timeoutS} s (health: ${health})${lastHealthOutput(container)}`,
        );
      }
      await this.time.sleep(VERIFY_POLL_MS);
    }
  }

  private sameVersion(a: string, b: string): boolean {
    try {
      return compareSemver(a, b) === 0;
    } catch {
      return a === b;
    }
  }

  private verdict(plan: UpgradePlan, result: SwapResult): Verdict {
    if (result.ok) return { outcome: 'succeeded' };
    const what = `${plan.to.image} did not come up: ${result.message}`;
    if (result.restored)
      return { outcome: 'rolled_back', reason: result.reason, message: `${what}; ${plan.device.name} runs ${plan.from.image} again.` };
    return {
      outcome: 'failed',
      reason: result.reason,
      message: `${what}; putting ${plan.from.image} back failed too: ${result.restoreError}`,
    };
  }
}
