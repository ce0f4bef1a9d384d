import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { devtoolsModule } from '@mosaic/ops';
import { listeningAddresses } from '../support/listening-sockets';

jest.setTimeout(60_000);

@Module({})
class EmptyModule {}

/** The Nest Devtools web app's origin: the package answers no other. */
const DEVTOOLS_ORIGIN = 'https://devtools.nestjs.com';

describe("@nestjs/devtools-integration's server, as Mosaic starts it", () => {
  it('listens on the loopback address it was given and on no other, and serves the graph snapshot there', async () => {
    // The package prints its playground token one second after boot, on stdout: waited for below,
    // so the line comes while the test still runs (and is not shown).
    const printed = new Promise<string>((resolve) => {
      jest.spyOn(console, 'log').mockImplementation((line: unknown) => resolve(String(line)));
    });
    const before = new Set(await listeningAddresses(process.pid));
    const app = await NestFactory.createApplicationContext(
      { module: EmptyModule, imports: [devtoolsModule({ host: '127.0.0.1', port: 0 })] },
      { snapshot: true, logger: false },
    );
    try {
      const added = (await listeningAddresses(process.pid)).filter((a) => !before.has(a));
      expect(added).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
      const res = await fetch(`http://${added[0]}/inspector/graph/snapshot`, { headers: { origin: DEVTOOLS_ORIGIN } });
      expect(res.status).toBe(200);
      const graph = (await res.json()) as { nodes: Record<string, { label: string }> };
      expect(Object.values(graph.nodes).map((n) => n.label)).toContain('EmptyModule');
      expect(await printed).toMatch(/^Sandbox session token: /);
    } finally {
      jest.restoreAllMocks();
      await app.close();
    }
  });
});
