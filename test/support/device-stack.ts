import { randomBytes } from 'node:crypto';
import { DeviceConfig } from '../../apps/device/src/config/device-config';
import { RecordingHive, RunningDevice, startDevice, testDeviceConfig } from './device-harness';
import { EngineProbe } from './engine';
import { IsolatedEngine } from './isolated-engine';
import { RunningPlugin, pluginConfig, startPlugin } from './storage-plugin';

/**
 * A whole device as it runs on a machine: an engine of the test's own, the real storage plugin
 * (in-process, its Docker socket where that engine looks for plugins) and a Device using both.
 */
export interface DeviceStack {
  engine: IsolatedEngine;
  probe: EngineProbe;
  plugin: RunningPlugin;
  device: RunningDevice;
  driver: string;
  /** A new Device over the same folders, engine and plugin (the old one is closed first), its settings changed by `changes`. */
  restartDevice(hive?: RecordingHive, changes?: Partial<DeviceConfig>): Promise<RunningDevice>;
  close(): Promise<void>;
}

export async function startDeviceStack(
  root: string,
  options: { replicaUrl?: string; hive?: RecordingHive; device?: Partial<DeviceConfig>; engine?: IsolatedEngine } = {},
): Promise<DeviceStack> {
  const engine = options.engine ?? (await IsolatedEngine.start());
  const driver = `mosaic-test-${randomBytes(4).toString('hex')}`;
  const plugin = await startPlugin(
    pluginConfig(root, { STORAGE_DRIVER: driver, DOCKER_PLUGIN_DIR: engine.pluginDir, ...(options.replicaUrl ? { REPLICA_URL: options.replicaUrl } : {}) }),
  );
  const config = testDeviceConfig(root, {
    dockerHost: `unix://${engine.socket}`,
    storageDriver: driver,
    storagePluginSocket: plugin.config.controlSocket,
    ...options.device,
  });
  const stack: DeviceStack = {
    engine,
    probe: new EngineProbe(engine.socket),
    plugin,
    driver,
    device: await startDevice(config, options.hive),
    async restartDevice(hive = new RecordingHive(), changes = {}) {
      await stack.device.close();
      hive.deviceId = stack.device.hive.deviceId;
      hive.keys.clear();
      for (const [instance, keys] of stack.device.hive.keys) hive.keys.set(instance, keys);
      stack.device = await startDevice({ ...config, ...changes }, hive);
      return stack.device;
    },
    async close() {
      await stack.device.close();
      await plugin.close();
      if (!options.engine) await engine.stop();
    },
  };
  return stack;
}
