import { Injectable } from '@nestjs/common';
import { VolumeReportDto } from '@mosaic/protocol';

/**
 * The device's view of the Mosaic storage plugin. Until the plugin is wired in (the storage
 * issue), the device manages no plugin volumes: it reports none and says the plugin is absent.
 */
@Injectable()
export class StorageService {
  async pluginVersion(): Promise<string> {
    return 'not installed';
  }

  async volumes(): Promise<VolumeReportDto[]> {
    return [];
  }
}
