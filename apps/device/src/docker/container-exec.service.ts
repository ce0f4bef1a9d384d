import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { COMPONENT_LABEL } from '../common/labels';
import { DockerEngineAdapter, ExecOutcome } from './docker-engine.adapter';
import { REAPER_SOURCE, parseReaperReport } from './exec-reaper';
import { LocalNodeAdapter } from './local-node.adapter';
import { OwnContainerService } from './own-container.service';

/** After a timeout: whether what the command left running was killed in the container, else why not. */
export type Reaped = { killed: true } | { killed: false; reason: string };

export interface ContainerExecOutcome extends ExecOutcome {
  reaped?: Reaped;
}

/** The reaper itself, in a container or here: it reads /proc once or a few times and ends. */
const REAPER_TIMEOUT_MS = 30_000;
/** How long the engine may take to see the killed exec end. */
const EXEC_END_WAIT_MS = 5_000;
const FULL_ID = /^[0-9a-f]{64}$/;

/**
 * Runs a command in a container without a shell and, when it outlives its timeout, kills it
 * there: the engine stops only the attached stream. The reaper (exec-reaper.ts) runs in a
 * short-lived container of the device's own image that sees the host's processes when the device
 * runs in a container, and as a process beside the device when it does not (it then shares the
 * engine's process namespace, or sees nothing and says so).
 */
@Injectable()
export class ContainerExecService {
  private readonly logger = new Logger('Docker');
  /** How long the engine may take to see a killed exec end (a test may shorten it). */
  execEndWaitMs = EXEC_END_WAIT_MS;

  constructor(
    private readonly engine: DockerEngineAdapter,
    private readonly own: OwnContainerService,
    private readonly local: LocalNodeAdapter,
  ) {}

  async run(containerId: string, argv: string[], timeoutMs: number, maxBytes: number): Promise<ContainerExecOutcome> {
    const outcome = await this.engine.exec(containerId, argv, timeoutMs, maxBytes);
    if (!outcome.timedOut) return outcome;
    // No pid: it had ended by the time the engine was asked, so nothing is left to kill.
    const reaped = outcome.pid === undefined ? ({ killed: true } as const) : await this.reap(containerId, outcome.execId, outcome.pid);
    if (!reaped.killed)
      this.logger.warn(`a timed-out command in container ${containerId.slice(0, 12)} could not be killed: ${reaped.reason}`);
    return { ...outcome, reaped };
  }

  private async reap(containerId: string, execId: string, pid: number): Promise<Reaped> {
    let report;
    try {
      const id = FULL_ID.test(containerId) ? containerId : (await this.engine.inspectContainer(containerId))?.id;
      if (!id) return { killed: false, reason: 'its container is gone' };
      const args = [id, String(pid)];
      const own = await this.own.details();
      const run = own
        ? await this.engine.runHelper(
            {
              name: `mosaic-exec-reaper-${randomBytes(6).toString('hex')}`,
              image: own.image,
              cmd: ['node', '-e', REAPER_SOURCE, ...args],
              labels: { [COMPONENT_LABEL]: 'exec-reaper' },
              pidMode: 'host',
              capabilities: ['KILL'],
            },
            REAPER_TIMEOUT_MS,
          )
        : await this.local.run(REAPER_SOURCE, args, REAPER_TIMEOUT_MS);
      report = parseReaperReport(run.output);
      if (!report) return { killed: false, reason: `the reaper failed (exit ${run.exitCode}): ${run.output.trim().slice(0, 300)}` };
    } catch (err) {
      return { killed: false, reason: `the reaper could not run: ${(err as Error).message}` };
    }
    // The engine's word decides: its exec has ended (the reaper may also have found it ended already).
    if (await this.execEnds(execId)) return { killed: true };
    if (!report.seen) return { killed: false, reason: `its process ${pid} is not visible from the device (an engine on another machine?)` };
    return { killed: false, reason: `${report.left} of its processes did not die` };
  }

  private async execEnds(execId: string): Promise<boolean> {
    const deadline = Date.now() + this.execEndWaitMs;
    for (;;) {
      if (!(await this.engine.execRunning(execId))) return true;
      if (Date.now() > deadline) return false;
      await delay(100);
    }
  }
}
