import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { COMPONENT_LABEL } from '../../apps/device/src/common/labels';
import { DEVICE_VERSION } from '../../apps/device/src/device-version';
import { ContainerExecService } from '../../apps/device/src/docker/container-exec.service';
import { DockerEngineAdapter } from '../../apps/device/src/docker/docker-engine.adapter';
import { REAPER_SOURCE, parseReaperReport } from '../../apps/device/src/docker/exec-reaper';
import { LocalNodeAdapter } from '../../apps/device/src/docker/local-node.adapter';
import { OwnContainerService } from '../../apps/device/src/docker/own-container.service';
import { SelfContainerAdapter } from '../../apps/device/src/docker/self-container.adapter';
import { tempRoot, testDeviceConfig } from '../support/device-harness';
import { TEST_IMAGE, engine } from '../support/engine';
import { strictFake } from '../support/strict-fake';

jest.setTimeout(120_000);

const DEVICE_IMAGE = `mosaic/device:${DEVICE_VERSION}`;

/**
 * A timed-out `docker exec` on the machine's real engine, killed by the reaper: as a process beside
 * the device (it shares the engine's process namespace), and in a helper container of the Device
 * image with the host's processes (as a device in a container does).
 */
describe('killing a timed-out exec inside its container', () => {
  const root = tempRoot('reaper');
  const suffix = randomBytes(4).toString('hex');
  const created: string[] = [];
  let target: string;

  async function container(name: string, image: string, cmd: string[], start: boolean): Promise<string> {
    const c = await engine.createContainer({ name, Image: image, Cmd: cmd, HostConfig: { NetworkMode: 'none' } });
    created.push(c.id);
    if (start) await c.start();
    return c.id;
  }

  const processes = async (text: string) =>
    ((await engine.getContainer(target).top()).Processes ?? []).filter((p: string[]) => p.join(' ').includes(text));

  function service(
    deviceContainer: string | undefined,
    local: LocalNodeAdapter,
  ): { execs: ContainerExecService; adapter: DockerEngineAdapter } {
    const config = testDeviceConfig(root.path, { deviceContainer });
    const adapter = new DockerEngineAdapter(config);
    return {
      execs: new ContainerExecService(adapter, new OwnContainerService(config, adapter, new SelfContainerAdapter()), local),
      adapter,
    };
  }

  beforeAll(async () => {
    target = await container(`mosaic-test-reaper-target-${suffix}`, TEST_IMAGE, ['sleep', '600'], true);
  });

  afterAll(async () => {
    for (const id of created)
      await engine
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    root.remove();
  });

  it('kills it from a process beside the device, and the exec ends', async () => {
    const { execs } = service(undefined, new LocalNodeAdapter());
    const outcome = await execs.run(target, ['sleep', '91'], 500, 1024);
    expect(outcome).toMatchObject({ timedOut: true, exitCode: 124, pid: expect.any(Number), reaped: { killed: true } });
    expect(await processes('sleep 91')).toEqual([]);
  });

  it('kills it from a helper container of the Device image that sees the host processes, and leaves no helper behind', async () => {
    if (!(await new DockerEngineAdapter(testDeviceConfig(root.path)).hasImage(DEVICE_IMAGE))) {
      throw new Error(`${DEVICE_IMAGE} is not on the machine's engine: build the images (scripts/build-images.sh)`);
    }
    // The device's own container, as OwnContainerService finds it: only its image matters here.
    const own = await container(`mosaic-test-reaper-device-${suffix}`, DEVICE_IMAGE, ['true'], false);
    // Nothing may run beside the device: a device in a container sees none of the host's processes.
    const { execs } = service(own, strictFake<LocalNodeAdapter>({}, 'LocalNodeAdapter'));
    const outcome = await execs.run(target, ['sleep', '92'], 500, 1024);
    expect(outcome.reaped).toEqual({ killed: true });
    expect(outcome).toMatchObject({ timedOut: true, exitCode: 124 });
    expect(await processes('sleep 92')).toEqual([]);
    expect(
      await engine.listContainers({ all: true, filters: { label: [`${COMPONENT_LABEL}=exec-reaper`], name: ['mosaic-exec-reaper-'] } }),
    ).toEqual([]);
  });

  it('answers at once, with nothing to kill, when the command ends in time', async () => {
    const { execs } = service(undefined, strictFake<LocalNodeAdapter>({}, 'LocalNodeAdapter'));
    const outcome = await execs.run(target, ['echo', 'done'], 10_000, 1024);
    expect(outcome).toMatchObject({ timedOut: false, exitCode: 0, stdout: 'done\n' });
    expect(outcome.reaped).toBeUndefined();
  });

  describe('the reaper program', () => {
    let outsider: ChildProcess | undefined;

    afterEach(() => {
      outsider?.kill('SIGKILL');
      outsider = undefined;
    });

    it('touches no process outside the container, even a session leader with the pid it was given', async () => {
      // A session leader of this machine, as a pid the kernel gave away again would be.
      outsider = spawn('sleep', ['93'], { detached: true, stdio: 'ignore' });
      const pid = outsider.pid!;
      const run = await new LocalNodeAdapter().run(REAPER_SOURCE, [target, String(pid)], 30_000);
      expect(parseReaperReport(run.output)).toEqual({ seen: false });
      expect(outsider.exitCode).toBeNull();
      expect(() => process.kill(pid, 0)).not.toThrow();
    });

    it('refuses arguments that are not a full container id and a pid', async () => {
      const run = await new LocalNodeAdapter().run(REAPER_SOURCE, ['abc', '1'], 30_000);
      expect(run.exitCode).toBe(2);
      expect(parseReaperReport(run.output)).toBeUndefined();
    });
  });
});
