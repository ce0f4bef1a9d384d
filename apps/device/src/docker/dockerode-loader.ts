import type Dockerode from 'dockerode';
import Module from 'node:module';

/**
 * Packages dockerode and docker-modem require when they load but the Device never uses: ssh2
 * (DOCKER_HOST=ssh://, which dockerConnection does not offer) and gRPC (BuildKit sessions; the
 * Device builds no images). Together ~30 MB of resident memory for nothing, so they are
 * replaced by stubs that fail loudly if ever called.
 */
export const UNUSED_BY_THE_DEVICE = [
  { from: 'docker-modem', name: 'ssh2' },
  { from: 'dockerode', name: '@grpc/grpc-js' },
  { from: 'dockerode', name: '@grpc/proto-loader' },
] as const;

/** A module whose every property is a function that throws: loading it costs nothing, using it says why it cannot. */
export function unusedModule(name: string): object {
  return new Proxy(
    {},
    {
      get(_target, property) {
        // Looked at by module loaders and interop helpers: an ordinary object's answer.
        if (typeof property === 'symbol' || property === '__esModule' || property === 'then' || property === 'default') return undefined;
        return function unused() {
          throw new Error(`${name}.${property}: ${name} is not loaded in the Mosaic Device (only unix:// and tcp:// engines, no image builds)`);
        };
      },
    },
  );
}

/** dockerode, loaded with the stubs above in place of what it would load but never use. */
export function loadDockerode(): typeof Dockerode {
  // Node's own require (not a bundler's): its cache is where docker-modem and dockerode look.
  const nodeRequire = Module.createRequire(__filename);
  const dockerodeMain = nodeRequire.resolve('dockerode');
  const resolvers: Record<string, NodeJS.Require> = {
    dockerode: Module.createRequire(dockerodeMain),
  };
  resolvers['docker-modem'] = Module.createRequire(resolvers.dockerode.resolve('docker-modem'));
  for (const { from, name } of UNUSED_BY_THE_DEVICE) {
    let path: string;
    try {
      path = resolvers[from].resolve(name);
    } catch {
      continue; // not installed: nothing would load it
    }
    if (nodeRequire.cache[path]) continue; // loaded already (by a test's own dockerode)
    const stub = new Module(path);
    stub.filename = path;
    stub.loaded = true;
    stub.exports = unusedModule(name);
    nodeRequire.cache[path] = stub;
  }
  return nodeRequire('dockerode') as typeof Dockerode;
}
