import { Inject, Injectable } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationDto, validatePayload } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';

/** What the device keeps about an app beside its compose file in APPS_DIR/<instance>/. */
export interface AppMetadata {
  application: ApplicationDto;
}

export const METADATA_FILE = 'mosaic.json';

/** The apps' folders under APPS_DIR. */
@Injectable()
export class AppFilesAdapter {
  constructor(@Inject(DEVICE_CONFIG) private readonly config: DeviceConfig) {}

  dir(instance: string): string {
    return join(this.config.appsDir, instance);
  }

  async readMetadata(instance: string): Promise<AppMetadata | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir(instance), METADATA_FILE), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as { application?: unknown };
      const app = validatePayload(ApplicationDto, parsed.application);
      return app.ok ? { application: app.value } : undefined;
    } catch {
      return undefined;
    }
  }
}
