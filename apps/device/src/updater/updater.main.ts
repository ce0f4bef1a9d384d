import { StateFileAdapter } from '../common/state-file.adapter';
import { ContainerSwap } from '../docker/container-swap';
import { DockerEngineAdapter } from '../docker/docker-engine.adapter';
import { UPDATER_RECORDS_DIR, UPDATER_SOCKET, UpgradeRecordStore } from '../upgrade/upgrade-record.store';
import { DeviceUpdater } from './device-updater';

const UPDATER_ENGINE_TIMEOUT_S = 60;

/**
 * `node dist/apps/device/main.js updater [folder]`: carries out the plan in the folder (default
 * UPDATER_RECORDS_DIR) and exits 0 once it wrote an outcome, 1 when it had nothing to go on.
 */
export async function runUpdater(args: string[]): Promise<number> {
  // The engine is the one the device it replaces uses; a minute per call is generous for a busy dockerd.
  const engine = new DockerEngineAdapter({ dockerHost: `unix://${UPDATER_SOCKET}`, engineTimeoutS: UPDATER_ENGINE_TIMEOUT_S });
  const records = new UpgradeRecordStore(args[0] ?? UPDATER_RECORDS_DIR, new StateFileAdapter());
  const outcome = await new DeviceUpdater(engine, new ContainerSwap(engine), records).run();
  return outcome ? 0 : 1;
}
