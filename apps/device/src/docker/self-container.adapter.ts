import { Injectable } from '@nestjs/common';
import { readFile } from 'node:fs/promises';

/** Where a container's id shows from inside: its mounts (/etc/hostname and friends) and cgroups. */
const SOURCES = ['/proc/self/mountinfo', '/proc/self/cgroup'];
const CONTAINER_ID = /(?:\/containers\/|\/docker[-/])([0-9a-f]{64})/;

/** Finds the id of the container this process runs in, if it runs in one. */
@Injectable()
export class SelfContainerAdapter {
  async containerId(): Promise<string | undefined> {
    for (const source of SOURCES) {
      try {
        const match = CONTAINER_ID.exec(await readFile(source, 'utf8'));
        if (match) return match[1];
      } catch {
        // not Linux, or no procfs: not in a container we can name
      }
    }
    return undefined;
  }
}
