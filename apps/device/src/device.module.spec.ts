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
