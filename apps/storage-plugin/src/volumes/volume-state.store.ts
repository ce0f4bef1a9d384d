import { Inject, Injectable, Logger } from '@nestjs/common';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { VOLUME_NAME_PATTERN, VOLUME_ROLES, VolumeRecord } from './volume-record';

interface StateFile {
  version: 1;
  volumes: VolumeRecord[];
}

function isRecord(value: any): value is VolumeRecord {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.name === 'string' &&
    VOLUME_NAME_PATTERN.test(value.name) &&
    typeof value.instance === 'string' &&
    (VOLUME_ROLES as readonly string[]).includes(value.role) &&
    typeof value.fingerprint === 'string' &&
    typeof value.writer === 'string' &&
    value.mounts !== null &&
    typeof value.mounts === 'object' &&
    (value.lastReplicatedAt === null || typeof value.lastReplicatedAt === 'string') &&
    typeof value.replication?.state === 'string' &&
    typeof value.isWriter === 'boolean'
  );
}

/**
 * STORAGE_DATA_DIR/state.json: the volumes, their mounts and replica state, replaced atomically
 * (temp file, fsync, rename) so a crash leaves the old or the new file, never half of one.
 */
@Injectable()
export class VolumeStateStore {
  private readonly logger = new Logger('State');
  readonly path: string;

  constructor(@Inject(PLUGIN_CONFIG) config: PluginConfig) {
    this.path = join(config.dataDir, 'state.json');
  }

  load(): VolumeRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let parsed: StateFile;
    try {
      parsed = JSON.parse(text) as StateFile;
      if (parsed?.version !== 1 || !Array.isArray(parsed.volumes)) throw new Error('not a version 1 state file');
    } catch (err) {
      // The volumes' data is untouched; only what the plugin remembered about them is set aside.
      const aside = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, aside);
      this.logger.error(`${this.path} is unreadable (${(err as Error).message}); set aside as ${aside}`);
      return [];
    }
    const good = parsed.volumes.filter(isRecord);
    if (good.length !== parsed.volumes.length)
      this.logger.warn(`${parsed.volumes.length - good.length} malformed volume record(s) in ${this.path} ignored`);
    return good;
  }

  save(volumes: VolumeRecord[]): void {
    const dir = join(this.path, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.state.${process.pid}.tmp`);
    const state: StateFile = { version: 1, volumes };
    writeFileSync(temp, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600, flush: true });
    renameSync(temp, this.path);
  }
}
