import { IsolatedEngine } from '../../test/support/isolated-engine';
import { Bench } from './bench';

/** A temporary folder (tempRoot, or pluginRoot where unix sockets need a short path), removed however the bench ends. */
export function temporaryFolder(bench: Bench, make: () => { path: string; remove(): void }): Promise<{ path: string; remove(): void }> {
  return bench.resource(
    'a temporary folder',
    10,
    async () => make(),
    (folder) => folder.remove(),
  );
}

/** A Docker engine of the bench's own (test/support/isolated-engine.ts), stopped however the bench ends. */
export function isolatedEngine(bench: Bench): Promise<IsolatedEngine> {
  return bench.resource(
    "a Docker engine of the bench's own",
    120,
    () => IsolatedEngine.start(),
    (engine) => engine.stop(),
  );
}
