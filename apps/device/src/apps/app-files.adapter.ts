import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { mkdir, open, readFile, readdir, realpath, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationDto, Patterns, validatePayload } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { AppCommandSpec } from './app-commands';

/** What the device keeps about an app beside its compose file (no secrets). */
export interface AppMetadata {
  instance: string;
  application: ApplicationDto;
  /** What the app should be doing; boot brings `running` apps back. */
  desired: 'running' | 'stopped';
  commands: Record<string, AppCommandSpec>;
  links: Record<string, { domain: string }>;
  updatedAt: string;
}

export const COMPOSE_FILE = 'compose.yaml';
export const METADATA_FILE = 'mosaic.json';
/** The app's variables, link tokens included: owner-only, handed to Compose as its environment. */
export const VARIABLES_FILE = 'variables.json';

/** The apps' folders under APPS_DIR: APPS_DIR/<instance>/{compose.yaml, variables.json, mosaic.json}. */
@Injectable()
export class AppFilesAdapter implements OnModuleInit {
  constructor(@Inject(DEVICE_CONFIG) private readonly config: DeviceConfig) {}

  /** APPS_DIR exists from boot on: disk space is reported for it and apps are written into it. */
  async onModuleInit(): Promise<void> {
    await mkdir(this.config.appsDir, { recursive: true, mode: 0o750 });
  }

  dir(instance: string): string {
    if (!Patterns.uuid.test(instance)) throw new Error(`not an instance id: ${instance}`);
    return join(this.config.appsDir, instance);
  }

  composeFile(instance: string): string {
    return join(this.dir(instance), COMPOSE_FILE);
  }

  async instances(): Promise<string[]> {
    try {
      return (await readdir(this.config.appsDir)).filter((name) => Patterns.uuid.test(name)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async exists(instance: string): Promise<boolean> {
    return (await this.readMetadata(instance)) !== undefined;
  }

  async write(instance: string, files: { compose: string; variables: Record<string, string>; metadata: AppMetadata }): Promise<void> {
    const dir = this.dir(instance);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await this.atomic(join(dir, COMPOSE_FILE), files.compose, 0o640);
    await this.atomic(join(dir, VARIABLES_FILE), JSON.stringify(files.variables), 0o600);
    await this.writeMetadata(files.metadata);
  }

  async writeMetadata(metadata: AppMetadata): Promise<void> {
    await this.atomic(join(this.dir(metadata.instance), METADATA_FILE), JSON.stringify(metadata, null, 2), 0o640);
  }

  async readMetadata(instance: string): Promise<AppMetadata | undefined> {
    const parsed = await this.readJson(join(this.dir(instance), METADATA_FILE));
    if (!parsed || typeof parsed !== 'object') return undefined;
    const metadata = parsed as AppMetadata;
    const app = validatePayload(ApplicationDto, metadata.application);
    if (!app.ok) return undefined;
    return {
      ...metadata,
      instance,
      application: app.value,
      desired: metadata.desired === 'stopped' ? 'stopped' : 'running',
      commands: metadata.commands ?? {},
      links: metadata.links ?? {},
    };
  }

  async readVariables(instance: string): Promise<Record<string, string>> {
    const parsed = await this.readJson(join(this.dir(instance), VARIABLES_FILE));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  }

  async remove(instance: string): Promise<void> {
    await rm(this.dir(instance), { recursive: true, force: true });
  }

  /** Where a path really leads, resolving symlinks of the part that exists. */
  async realPath(path: string): Promise<string> {
    const parts = path.split('/');
    for (let i = parts.length; i > 1; i--) {
      try {
        const real = await realpath(parts.slice(0, i).join('/'));
        return [real, ...parts.slice(i)].join('/');
      } catch {
        // not there (yet): try the parent
      }
    }
    return path;
  }

  private async readJson(path: string): Promise<unknown> {
    try {
      return JSON.parse(await readFile(path, 'utf8'));
    } catch {
      return undefined;
    }
  }

  private async atomic(path: string, content: string, mode: number): Promise<void> {
    const temp = `${path}.${process.pid}.tmp`;
    // Whatever already sits at the temporary name (a stale file, or a symlink planted to make the
    // device write elsewhere) is unlinked, never followed; 'wx' then creates a fresh file or fails.
    await rm(temp, { force: true });
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(content);
      await file.chmod(mode);
    } finally {
      await file.close();
    }
    await rename(temp, path);
  }
}
