// Test support: a fake device that answers the Hive's commands the way a real one would.
import { CommandType, Events } from '@mosaic/protocol';
import { FakeDevice } from './fake-device';

export type Outcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; error: { code: string; message: string; details?: unknown } }
  /** Accept the command and send no result (yet): `finish` sends it later. */
  | 'no-result'
  /** Refuse it in the acknowledgement. */
  | { refuse: { code: string; message: string } };

/**
 * A device that acknowledges every command and answers it the way a real one would, unless a
 * test scripts another outcome. It records every envelope; a type it was not told about fails.
 */
export class AppDevice {
  readonly received: any[] = [];
  private readonly scripted: Array<(envelope: any) => Outcome | undefined> = [];
  private readonly waiting: Array<{ type: string; resolve: (envelope: any) => void }> = [];

  constructor(readonly device: FakeDevice) {
    device.onCommand((envelope) => {
      this.received.push(envelope);
      const outcome = this.outcomeOf(envelope);
      for (const waiter of this.waiting.filter((w) => w.type === envelope.type)) {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        waiter.resolve(envelope);
      }
      if (typeof outcome === 'object' && 'refuse' in outcome) return { id: envelope.id, accepted: false, error: outcome.refuse };
      if (outcome !== 'no-result') setImmediate(() => this.finish(envelope, outcome));
      return { id: envelope.id, accepted: true };
    });
  }

  /** The next command gets this outcome instead of the usual one. */
  next(outcome: Outcome): void {
    this.scripted.push(() => outcome);
  }

  /** Sends the result of a command the device left running ('no-result'). */
  finish(envelope: any, outcome: Exclude<Outcome, 'no-result' | { refuse: unknown }>): void {
    this.device.socket.emit(Events.commandResult, {
      id: envelope.id,
      type: envelope.type,
      ...outcome,
      finishedAt: new Date().toISOString(),
    });
  }

  /** Resolves with the next command of this type the device receives. */
  nextCommand(type: string): Promise<any> {
    return new Promise((resolve) => this.waiting.push({ type, resolve }));
  }

  ofType(type: string): any[] {
    return this.received.filter((envelope) => envelope.type === type);
  }

  last(): any {
    return this.received[this.received.length - 1];
  }

  private outcomeOf(envelope: any): Outcome {
    const scripted = this.scripted.shift()?.(envelope);
    if (scripted) return scripted;
    const { instance } = envelope.params;
    switch (envelope.type) {
      case CommandType.SchedulerStart:
        return {
          ok: true,
          result: { instance, state: 'running', containers: [{ service: 'web', containerId: 'c0ffee', state: 'running' }] },
        };
      case CommandType.SchedulerStop:
        return { ok: true, result: { instance, state: 'stopped', volumes: [{ name: `mosaic-${instance}-app`, lastReplicatedAt: null }] } };
      case CommandType.SchedulerPrepare:
        return { ok: true, result: { instance, staged: [] } };
      case CommandType.SchedulerReplicate:
        return { ok: true, result: { instance, volumes: [{ name: `mosaic-${instance}-app`, lastReplicatedAt: null }] } };
      case CommandType.AppCommandRun:
        return { ok: true, result: { exitCode: 0, stdout: `ran ${envelope.params.command}\n`, stderr: '', truncated: false } };
      case CommandType.UpgradeRun:
        return { ok: true, result: { updater: { image: 'mosaic/updater:1', containerId: 'updater0' }, targets: ['mosaic-device'] } };
      default:
        return { ok: false, error: { code: 'UNEXPECTED', message: `the test did not expect ${envelope.type}` } };
    }
  }
}
