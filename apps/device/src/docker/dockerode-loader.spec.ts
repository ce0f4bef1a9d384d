import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unusedModule } from './dockerode-loader';

const ROOT = join(__dirname, '../../../..');

/**
 * In a plain Node process: Jest gives modules its own `node:module`, whose require cache is not
 * the one dockerode's files are loaded through.
 */
const PROBE = `
const { loadDockerode, UNUSED_BY_THE_DEVICE } = require(${JSON.stringify(join(__dirname, 'dockerode-loader.ts'))});
const Dockerode = loadDockerode();
const docker = new Dockerode({ socketPath: '/nonexistent/docker.sock' });
const files = (pkg) => Object.keys(require.cache).filter((p) => p.includes('/node_modules/' + pkg + '/'));
let ssh2Error;
try { require(require.resolve('ssh2', { paths: [require.resolve('docker-modem')] })).Client(); } catch (err) { ssh2Error = err.message; }
process.stdout.write(JSON.stringify({
  listContainers: typeof docker.listContainers,
  dockerodeFiles: files('dockerode').length,
  unused: Object.fromEntries(UNUSED_BY_THE_DEVICE.map(({ name }) => [name, files(name).length])),
  ssh2Error,
}));
`;

describe('loadDockerode', () => {
  it('gives a working dockerode, with one stub file each in place of ssh2 and gRPC', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', join(ROOT, 'bench/support/register.js'), '-e', PROBE], { cwd: ROOT });
    const probe = JSON.parse(stdout);
    expect(probe.listContainers).toBe('function');
    expect(probe.dockerodeFiles).toBeGreaterThan(5);
    // Without the stubs ssh2 alone loads dozens of files.
    expect(probe.unused).toEqual({ ssh2: 1, '@grpc/grpc-js': 1, '@grpc/proto-loader': 1 });
    expect(probe.ssh2Error).toMatch(/ssh2\.Client: ssh2 is not loaded in the Mosaic Device/);
  }, 30_000);

  it('answers a call to what it stubbed with an error that says why', () => {
    const ssh2 = unusedModule('ssh2') as { Client: new () => unknown };
    expect(() => new ssh2.Client()).toThrow(/ssh2\.Client: ssh2 is not loaded in the Mosaic Device/);
    expect((ssh2 as Record<string, unknown>).__esModule).toBeUndefined();
  });
});
