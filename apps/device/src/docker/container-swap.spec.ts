import { strictFake } from '../../../../test/support/strict-fake';
import { ContainerSwap, SwapRefused, SwapRequest, SwapStep } from './container-swap';
import { DockerEngineAdapter, RestartPolicy } from './docker-engine.adapter';

const OLD = 'old-id';
const NEW = 'new-id';

describe('ContainerSwap', () => {
  let calls: string[];
  let failing: Map<string, Error>;
  let steps: SwapStep[];

  beforeEach(() => {
    calls = [];
    failing = new Map();
    steps = [];
  });

  /** An engine that records each call as "verb args" and fails the ones the test names. */
  function engine(): DockerEngineAdapter {
    const record = (call: string) => {
      calls.push(call);
      const err = failing.get(call);
      if (err) throw err;
    };
    return strictFake<DockerEngineAdapter>(
      {
        renameContainer: async (id: string, name: string) => record(`rename ${id} ${name}`),
        setRestartPolicy: async (id: string, policy: RestartPolicy) => record(`restart-policy ${id} ${policy.Name}`),
        stopContainer: async (id: string, graceS: number) => record(`stop ${id} ${graceS}`),
        startContainer: async (id: string) => record(`start ${id}`),
        removeContainer: async (id: string, graceS: number, keepVolumes: boolean) =>
          record(`remove ${id} ${graceS}${keepVolumes ? ' keep-volumes' : ''}`),
      },
      'DockerEngineAdapter',
    );
  }

  function request(
    verify: (id: string) => Promise<void> = async () => undefined,
    create = async () => (calls.push('create'), NEW),
  ): SwapRequest {
    return {
      old: { id: OLD, name: 'mosaic-device', running: true, restartPolicy: { Name: 'unless-stopped' } },
      asideName: 'mosaic-device-previous-1234',
      stopGraceS: 30,
      create,
      verify: async (id) => {
        calls.push(`verify ${id}`);
        await verify(id);
      },
      onStep: (step) => steps.push(step),
    };
  }

  it('sets the old container aside, creates the new one under its name, stops the old one before the new one starts, and removes the old one once the new one is good', async () => {
    expect(await new ContainerSwap(engine()).swap(request())).toEqual({ ok: true, newId: NEW });
    expect(calls).toEqual([
      'rename old-id mosaic-device-previous-1234',
      'restart-policy old-id no',
      'create',
      'stop old-id 30',
      `start ${NEW}`,
      `verify ${NEW}`,
      'remove old-id 0 keep-volumes',
    ]);
    expect(steps).toEqual(['aside', 'created', 'stopped', 'started', 'verified']);
  });

  it('puts the old container back, under its name, with its restart policy, when the new one is refused', async () => {
    const result = await new ContainerSwap(engine()).swap(
      request(async () => Promise.reject(new SwapRefused('unhealthy', 'its health check failed'))),
    );
    expect(result).toEqual({ ok: false, reason: 'unhealthy', message: 'its health check failed', restored: true });
    expect(calls.slice(calls.indexOf(`verify ${NEW}`) + 1)).toEqual([
      `remove ${NEW} 10 keep-volumes`,
      'rename old-id mosaic-device',
      'restart-policy old-id unless-stopped',
      'start old-id',
    ]);
    expect(steps).toEqual(['aside', 'created', 'stopped', 'started', 'refused', 'restored']);
  });

  it('never stops the old container when the new one cannot even be created', async () => {
    const result = await new ContainerSwap(engine()).swap(
      request(undefined, async () => Promise.reject(new Error('invalid mount config'))),
    );
    expect(result).toEqual({
      ok: false,
      reason: 'start_failed',
      message: 'the new container could not be created: invalid mount config',
      restored: true,
    });
    expect(calls).not.toContain('stop old-id 30');
    expect(calls.slice(2)).toEqual(['rename old-id mosaic-device', 'restart-policy old-id unless-stopped', 'start old-id']);
  });

  it('puts the old container back when the new one does not start', async () => {
    failing.set(`start ${NEW}`, new Error('port is already allocated'));
    const result = await new ContainerSwap(engine()).swap(request());
    expect(result).toMatchObject({
      ok: false,
      reason: 'start_failed',
      message: 'the new container could not be started: port is already allocated',
      restored: true,
    });
    expect(calls).not.toContain(`verify ${NEW}`);
    expect(calls.slice(-4)).toEqual([
      `remove ${NEW} 10 keep-volumes`,
      'rename old-id mosaic-device',
      'restart-policy old-id unless-stopped',
      'start old-id',
    ]);
  });

  it('does not start an old container that was not running', async () => {
    const stopped = request(async () => Promise.reject(new SwapRefused('exited', 'exited with status 1')));
    stopped.old.running = false;
    expect(await new ContainerSwap(engine()).swap(stopped)).toMatchObject({ ok: false, reason: 'exited', restored: true });
    expect(calls).not.toContain('start old-id');
  });

  it('says so when the old container cannot be put back', async () => {
    failing.set('rename old-id mosaic-device', new Error('name in use'));
    const result = await new ContainerSwap(engine()).swap(
      request(async () => Promise.reject(new SwapRefused('timeout', 'did not turn healthy'))),
    );
    expect(result).toEqual({ ok: false, reason: 'timeout', message: 'did not turn healthy', restored: false, restoreError: 'name in use' });
  });

  it('throws, and changes nothing, when the old container cannot be set aside', async () => {
    failing.set('restart-policy old-id no', new Error('no such container'));
    await expect(new ContainerSwap(engine()).swap(request())).rejects.toThrow('no such container');
    expect(calls).toEqual(['rename old-id mosaic-device-previous-1234', 'restart-policy old-id no', 'rename old-id mosaic-device']);
  });

  it('counts an unexpected failure of verify as a refusal: the old one comes back', async () => {
    expect(await new ContainerSwap(engine()).swap(request(async () => Promise.reject(new Error('engine gone'))))).toMatchObject({
      ok: false,
      reason: 'start_failed',
      message: 'engine gone',
      restored: true,
    });
  });

  it('keeps the new container when the old one cannot be removed afterwards (it only waits aside)', async () => {
    failing.set('remove old-id 0 keep-volumes', new Error('busy'));
    expect(await new ContainerSwap(engine()).swap(request())).toEqual({ ok: true, newId: NEW });
  });
});
