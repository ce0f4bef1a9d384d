import { Injectable } from '@nestjs/common';
import { statfs } from 'node:fs/promises';
import * as os from 'node:os';

export interface DiskUsage {
  totalBytes: number;
  freeBytes: number;
  availableBytes: number;
}

/** Facts about the machine the device runs on (statfs, os). */
@Injectable()
export class HostSystemAdapter {
  async diskUsage(path: string): Promise<DiskUsage> {
    const s = await statfs(path);
    return { totalBytes: s.blocks * s.bsize, freeBytes: s.bfree * s.bsize, availableBytes: s.bavail * s.bsize };
  }

  facts(): { hostname: string; os: string; arch: string; cpus: number; memoryBytes: number } {
    return {
      hostname: os.hostname(),
      os: `${os.type()} ${os.release()}`,
      arch: os.arch(),
      cpus: os.cpus().length || 1,
      memoryBytes: os.totalmem(),
    };
  }
}
