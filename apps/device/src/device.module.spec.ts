import { NestFactory, SerializedGraph } from '@nestjs/core';
import { tempRoot, testDeviceConfig } from '../../../test/support/device-harness';
import { DeviceModule } from './device.module';
import { importCycles, moduleImports } from './monitor/module-graph';

/** docs/architecture.md: the module graph has no cycles; Nest's own snapshot (what DEVTOOLS serves) is the witness. */
describe('DeviceModule graph', () => {
  let imports: Map<string, Set<string>>;
  const root = tempRoot('graph');

  beforeAll(async () => {
    // preview: Nest resolves the graph without creating a single provider, so nothing connects or starts.
    const app = await NestFactory.createApplicationContext(DeviceModule.forRoot(testDeviceConfig(root.path)), {
      snapshot: true,
      preview: true,
      logger: false,
      abortOnError: false, // a cycle Nest cannot even resolve fails the test instead of ending Jest
    });
    imports = moduleImports(app.get(SerializedGraph).toJSON());
    await app.close();
  });
  afterAll(() => root.remove());

  it('has no import cycle', () => {
    expect(importCycles(imports)).toEqual([]);
  });

  it('is the graph docs/architecture.md draws (the snapshot is not empty)', () => {
    const edges = (from: string) => [...(imports.get(from) ?? [])].sort();
    expect(edges('DeviceModule')).toEqual(expect.arrayContaining(['CommandsModule', 'TelemetryModule', 'MonitorModule']));
    expect(edges('CommandsModule')).toEqual(expect.arrayContaining(['HiveModule', 'AppsModule', 'SystemModule', 'UpgradeModule']));
    expect(edges('StorageModule')).toEqual(expect.arrayContaining(['DockerModule', 'HiveModule', 'KeystoreModule']));
    expect(edges('MetricsModule')).toEqual([]); // a leaf: anything may record into it
    expect(edges('DockerModule')).not.toContain('AppsModule');
  });
});

/** README, "Nest devtools": the server that runs code sent to it is part of the Device only when DEVTOOLS_ALLOW_CODE=true said so. */
describe('DeviceModule and Nest devtools', () => {
  const root = tempRoot('devtools');
  afterAll(() => root.remove());

  async function moduleNames(overrides: Parameters<typeof testDeviceConfig>[1]): Promise<string[]> {
    const app = await NestFactory.createApplicationContext(DeviceModule.forRoot(testDeviceConfig(root.path, overrides)), { abortOnError: false,
      snapshot: true,
      preview: true,
      logger: false,
    });
    const { nodes } = app.get(SerializedGraph).toJSON() as { nodes: Record<string, { label: string; metadata: { type: string } }> };
    await app.close();
    return Object.values(nodes)
      .filter((n) => n.metadata.type === 'module')
      .map((n) => n.label);
  }

  it('leaves DevtoolsModule out with DEVTOOLS=true alone', async () => {
    const names = await moduleNames({ devtools: true, devtoolsServer: undefined });
    expect(names).toContain('MonitorModule');
    expect(names).not.toContain('DevtoolsModule');
  });

  it('imports DevtoolsModule when DEVTOOLS_ALLOW_CODE=true gave it an address', async () => {
    expect(await moduleNames({ devtools: true, devtoolsServer: { host: '127.0.0.1', port: 0 } })).toContain('DevtoolsModule');
  });
});

