import { Events } from '@mosaic/protocol';
import { RunningDevice } from '../../test/support/device-harness';

export interface StartTimes {
  /** When the command reached the Device (performance.now()). */
  receivedAt: number;
  /** When it sent the report.apps that says the instance runs. */
  runningAt: number;
  /** Each command.progress stage and when it began, in ms after receivedAt. */
  stages: Array<[string, number]>;
}

/**
 * SchedulerAction.start on a Device behind a RecordingHive, until its report.apps says the
 * instance runs; a failed start ends the wait with its result instead. The caller's step bounds it.
 */
export async function startUntilRunning(device: RunningDevice, params: { instance: string }): Promise<StartTimes> {
  const from = device.hive.emitted.length;
  const running = device.hive.next(
    (e) => e.event === Events.reportApps && e.payload.apps.some((a: any) => a.instance === params.instance && a.state === 'running'),
    from,
  );
  const receivedAt = performance.now();
  const answered = device.command('SchedulerAction.start', params).then(({ ack, result }) => {
    if (!result?.ok) throw new Error(`the start failed: ack ${JSON.stringify(ack)}, result ${JSON.stringify(result)}`);
  });
  const report = await Promise.race([running, answered.then(() => running)]);
  await answered;
  return { receivedAt, runningAt: report.at, stages: progressStages(device, from, receivedAt, report.at) };
}

/**
 * Each command.progress stage the device emitted (from its `from`th event on, until `until`) and
 * when it began, in ms after `receivedAt`.
 */
export function progressStages(device: RunningDevice, from: number, receivedAt: number, until = Infinity): Array<[string, number]> {
  const stages = new Map<string, number>();
  for (const e of device.hive.emitted.slice(from)) {
    if (e.event === Events.commandProgress && e.at <= until && !stages.has(e.payload.stage)) stages.set(e.payload.stage, e.at - receivedAt);
  }
  return [...stages];
}

/** "policy at 21 ms, keys at 116 ms, …, running at 498 ms" */
export function describeStart(times: StartTimes, ms: (value: number) => string): string {
  return [...times.stages.map(([stage, at]) => `${stage} at ${ms(at)}`), `running at ${ms(times.runningAt - times.receivedAt)}`].join(', ');
}
