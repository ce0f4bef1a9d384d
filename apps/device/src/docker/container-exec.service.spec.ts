import { strictFake } from '../../../../test/support/strict-fake';
import { ContainerExecService } from './container-exec.service';
import { ContainerDetails, DockerEngineAdapter, ExecOutcome, HelperSpec } from './docker-engine.adapter';
import { REAPER_SOURCE } from './exec-reaper';
import { LocalNodeAdapter } from './local-node.adapter';
import { OwnContainerService } from './own-container.service';

const TARGET = 'a'.repeat(64);
const OWN: ContainerDetails = {
  id: 'd'.repeat(64),
  name: 'mosaic-device',
  image: 'mosaic/device:9.9.9',
  imageId: 'sha256:' + 'e'.repeat(64),
  running: true,
  labels: {},
  mounts: [],
};

const finished: ExecOutcome = { execId: 'e1', exitCode: 0, stdout: 'ok\n', stderr: '', truncated: false, timedOut: false };
const timedOut: ExecOutcome = { execId: 'e1', exitCode: 124, stdout: '', stderr: '', truncated: false, timedOut: true, pid: 4242 };

interface Setup {
  outcome: ExecOutcome;
  own?: ContainerDetails;
  /** What ExecInspect says, call after call; the last answer repeats. */
  running?: boolean[];
  local?: (source: string, args: string[]) => Promise<{ exitCode: number; output: string }>;
  helper?: (spec: HelperSpec) => Promise<{ exitCode: number; output: string }>;
  inspect?: (id: string) => Promise<ContainerDetails | undefined>;
}

function service(setup: Setup) {
  const calls = { local: [] as string[][], helpers: [] as HelperSpec[] };
  const running = [...(setup.running ?? [false])];
  const engine = strictFake<DockerEngineAdapter>(
    {
      exec: async () => setup.outcome,
      execRunning: async () => (running.length > 1 ? running.shift()! : running[0]),
      ...(setup.helper && {
        runHelper: async (spec: HelperSpec) => {
          calls.helpers.push(spec);
          return setup.helper!(spec);
        },
      }),
      ...(setup.inspect && { inspectContainer: setup.inspect }),
    },
    'DockerEngineAdapter',
  );
  const own = strictFake<OwnContainerService>({ details: async () => setup.own }, 'OwnContainerService');
  const local = strictFake<LocalNodeAdapter>(
    setup.local
      ? {
          run: async (source: string, args: string[]) => {
            calls.local.push(args);
            expect(source).toBe(REAPER_SOURCE);
            return setup.local!(source, args);
          },
        }
      : {},
    'LocalNodeAdapter',
  );
  const execs = new ContainerExecService(engine, own, local);
  execs.execEndWaitMs = 300;
  return { execs, calls };
}

const reaper = (report: object) => async () => ({ exitCode: 0, output: `${JSON.stringify(report)}\n` });

describe('ContainerExecService', () => {
  it('hands back a command that ended in time as it is, with nothing to kill', async () => {
    const { execs } = service({ outcome: finished });
    expect(await execs.run(TARGET, ['ls'], 1000, 100)).toEqual(finished);
  });

  it('has nothing to kill when the command had ended by the time the engine was asked', async () => {
    const { execs } = service({ outcome: { ...timedOut, pid: undefined } });
    expect((await execs.run(TARGET, ['sleep', '9'], 1000, 100)).reaped).toEqual({ killed: true });
  });

  it('outside a container, runs the reaper beside itself with the container id and the pid', async () => {
    const { execs, calls } = service({ outcome: timedOut, running: [true, false], local: reaper({ seen: true, killed: 2, left: 0 }) });
    expect(await execs.run(TARGET, ['sleep', '9'], 1000, 100)).toEqual({ ...timedOut, reaped: { killed: true } });
    expect(calls.local).toEqual([[TARGET, '4242']]);
  });

  it('in a container, runs the reaper in a helper of its own image that sees the host processes and may only kill', async () => {
    const { execs, calls } = service({ outcome: timedOut, own: OWN, helper: reaper({ seen: true, killed: 1, left: 0 }) });
    expect((await execs.run(TARGET, ['sleep', '9'], 1000, 100)).reaped).toEqual({ killed: true });
    expect(calls.helpers).toEqual([
      {
        name: expect.stringMatching(/^mosaic-exec-reaper-[0-9a-f]{12}$/),
        image: OWN.image,
        cmd: ['node', '-e', REAPER_SOURCE, TARGET, '4242'],
        labels: { 'io.mosaic.component': 'exec-reaper' },
        pidMode: 'host',
        capabilities: ['KILL'],
      },
    ]);
  });

  it('hands the reaper the full id of a container named by a short one', async () => {
    const { execs, calls } = service({
      outcome: timedOut,
      local: reaper({ seen: true, killed: 1, left: 0 }),
      inspect: async (id) => (id === 'abc123' ? { ...OWN, id: TARGET } : undefined),
    });
    await execs.run('abc123', ['sleep', '9'], 1000, 100);
    expect(calls.local).toEqual([[TARGET, '4242']]);
  });

  it('says so when the exec still runs after the reaper found nothing to kill (an engine on another machine)', async () => {
    const { execs } = service({ outcome: timedOut, running: [true], local: reaper({ seen: false }) });
    expect((await execs.run(TARGET, ['sleep', '9'], 1000, 100)).reaped).toEqual({
      killed: false,
      reason: expect.stringContaining('process 4242 is not visible from the device'),
    });
  });

  it('says so when processes survived the reaper', async () => {
    const { execs } = service({ outcome: timedOut, running: [true], own: OWN, helper: reaper({ seen: true, killed: 3, left: 1 }) });
    expect((await execs.run(TARGET, ['sleep', '9'], 1000, 100)).reaped).toEqual({
      killed: false,
      reason: '1 of its processes did not die',
    });
  });

  it('takes the engine’s word over the reaper’s: an exec that ended counts as killed', async () => {
    const { execs } = service({ outcome: timedOut, running: [false], local: reaper({ seen: false }) });
    expect((await execs.run(TARGET, ['sleep', '9'], 1000, 100)).reaped).toEqual({ killed: true });
  });

  it.each([
    [
      'a reaper that prints something else',
      { local: async () => ({ exitCode: 1, output: 'Error: boom' }) },
      'the reaper failed (exit 1): Error: boom',
    ],
    [
      'a helper that cannot run',
      { own: OWN, helper: async () => Promise.reject(new Error('no such image')) },
      'the reaper could not run: no such image',
    ],
    ['a container that is gone', { inspect: async () => undefined }, 'its container is gone'],
  ])('reports %s as not killed, with why', async (_label, setup, reason) => {
    const { execs } = service({ outcome: timedOut, ...setup } as Setup);
    const target = 'inspect' in setup ? 'gone' : TARGET;
    expect((await execs.run(target, ['sleep', '9'], 1000, 100)).reaped).toEqual({ killed: false, reason });
  });
});
