import { Server, Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { TempDirs, deviceConfig } from '../../../../test/support/device-fixtures';
import { DockerEngineAdapter, EngineTimeoutError } from './docker-engine.adapter';

/**
 * An engine socket that accepts and never answers (a hung dockerd): every call of the adapter ends
 * within its deadline with a line that names the engine, the call and the time it waited.
 */
describe('DockerEngineAdapter deadlines', () => {
  const dirs = new TempDirs();
  let server: Server;
  let held: Set<Socket>;
  let socketPath: string;
  let engine: DockerEngineAdapter;

  beforeEach(async () => {
    held = new Set();
    server = createServer((socket) => held.add(socket));
    socketPath = join(dirs.make(), 'silent.sock');
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    engine = new DockerEngineAdapter(deviceConfig({ dockerHost: `unix://${socketPath}`, engineTimeoutS: 1 }));
  });

  afterEach(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    dirs.cleanup();
  });

  async function timed<T>(call: () => Promise<T>): Promise<{ error: Error; ms: number }> {
    const started = Date.now();
    const error = await call().then(
      () => new Error('it answered'),
      (err: Error) => err,
    );
    return { error, ms: Date.now() - started };
  }

  it.each([
    ['listContainers', 'a container list', (e: DockerEngineAdapter) => e.listContainers(['x'])],
    ['inspectContainer', 'the inspection of c1', (e: DockerEngineAdapter) => e.inspectContainer('c1')],
    ['hasImage', 'the inspection of image busybox', (e: DockerEngineAdapter) => e.hasImage('busybox')],
    ['ensureVolume', 'the inspection of volume v1', (e: DockerEngineAdapter) => e.ensureVolume('v1', 'mosaic', {})],
    ['removeVolume', 'the removal of volume v1', (e: DockerEngineAdapter) => e.removeVolume('v1')],
    ['startContainer', 'the start of container c1', (e: DockerEngineAdapter) => e.startContainer('c1')],
    [
      'watchContainers',
      'the events request',
      (e: DockerEngineAdapter) =>
        e.watchContainers(
          'x',
          () => undefined,
          () => undefined,
        ),
    ],
  ] as Array<[string, string, (e: DockerEngineAdapter) => Promise<unknown>]>)(
    '%s gives up after ENGINE_TIMEOUT_S and says why',
    async (_name, what, call) => {
      const { error, ms } = await timed(() => call(engine));
      expect(error).toBeInstanceOf(EngineTimeoutError);
      expect(error.message).toBe(`the Docker engine at unix://${socketPath} did not answer ${what} within 1 s`);
      expect(ms).toBeGreaterThanOrEqual(950);
      expect(ms).toBeLessThan(5000);
    },
  );

  it('a stop waits for its grace period on top of the deadline', async () => {
    const { error, ms } = await timed(() => engine.removeContainer('c1', 1));
    expect(error.message).toMatch(/did not answer the stop of container c1 within 2 s/);
    expect(ms).toBeGreaterThanOrEqual(1950);
  });

  it('version() takes a shorter deadline for health probes', async () => {
    const { error, ms } = await timed(() => engine.version(200));
    expect(error.message).toMatch(/did not answer the version request within 0 s/);
    expect(ms).toBeLessThan(1000);
  });

  it('a refused connection is not a timeout: the engine is simply not there', async () => {
    const gone = new DockerEngineAdapter(deviceConfig({ dockerHost: `unix://${join(dirs.make(), 'none.sock')}`, engineTimeoutS: 1 }));
    const { error } = await timed(() => gone.listContainers([]));
    expect(error).not.toBeInstanceOf(EngineTimeoutError);
    expect(error.message).toMatch(/ENOENT/);
  });
});
