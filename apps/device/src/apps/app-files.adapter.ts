import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationDto, Patterns, STOP_REASONS, StopReason, validatePayload } from '@mosaic/protocol';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { AppCommandSpec } from './app-commands';

/** What the device keeps about an app beside its compose file (no secrets). */
export interface AppMetadata {
  instance: string;
  application: ApplicationDto;
  /** What the app should be doing; boot brings `running` apps back. */
  desired: 'running' | 'stopped';
  /** Why the Hive stopped this copy (§2.4 `reason`): the app moved elsewhere, or was removed. Reported in report.apps. */
  stoppedReason?: StopReason;
  commands: Record<string, AppCommandSpec>;
  links: Record<string, { domain: string }>;
  updatedAt: string;
}

export const COMPOSE_FILE = 'compose.yaml';
export const METADATA_FILE = 'mosaic.json';
/** The app's variables, link tokens included: owner-only, handed to Compose as its environment. */
export const VARIABLES_FILE = 'variables.json';
/** What Compose would read from the project folder by itself: the device never writes one. */
const COMPOSE_ENV_FILE = '.env';
/** Folders of starts in progress, beside the instances' folders (never an instance id). */
const STAGED_PREFIX = '.staged-';

/** A start's files, rendered into a folder of their own until the policy accepts them. */
export interface StagedApp {
  instance: string;
  dir: string;
  composeFile: string;
}

/** Something in an instance's folder that is not what the device wrote there. */
export interface LayoutProblem {
  path: string;
  message: string;
}

/** An instance's folder holds what the device did not put there. */
export class LayoutError extends Error {
  constructor(readonly problems: LayoutProblem[]) {
    super(problems.map((p) => p.message).join('; '));
  }
}

/** The apps' folders under APPS_DIR: APPS_DIR/<instance>/{compose.yaml, variables.json, mosaic.json}. */
@Injectable()
export class AppFilesAdapter implements OnModuleInit {
  constructor(@Inject(DEVICE_CONFIG) private readonly config: DeviceConfig) {}

  /** APPS_DIR exists from boot on: disk space is reported for it and apps are written into it. */
  async onModuleInit(): Promise<void> {
    await mkdir(this.config.appsDir, { recursive: true, mode: 0o750 });
    // Starts a stop of the device cut short: never committed, so never the instance's.
    for (const name of await readdir(this.config.appsDir)) {
      if (name.startsWith(STAGED_PREFIX)) await rm(join(this.config.appsDir, name), { recursive: true, force: true });
    }
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

  /** Renders a start's compose file and variables into a new folder beside the instances'. */
  async stage(instance: string, files: { compose: string; variables: Record<string, string> }): Promise<StagedApp> {
    this.dir(instance);
    await mkdir(this.config.appsDir, { recursive: true, mode: 0o750 });
    const dir = join(this.config.appsDir, `${STAGED_PREFIX}${instance}-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { mode: 0o750 });
    await this.atomic(join(dir, COMPOSE_FILE), files.compose, 0o640);
    await this.atomic(join(dir, VARIABLES_FILE), JSON.stringify(files.variables), 0o600);
    return { instance, dir, composeFile: join(dir, COMPOSE_FILE) };
  }

  /**
   * Makes the staged files the instance's, each replaced whole (rename), the metadata last;
   * whatever else the folder holds stays. Throws a LayoutError when the folder is not safe to write.
   */
  async commit(staged: StagedApp, metadata: AppMetadata): Promise<void> {
    const dir = this.dir(staged.instance);
    await mkdir(dir, { mode: 0o750 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const problems = await this.layoutProblems(staged.instance);
    if (problems.length) throw new LayoutError(problems);
    for (const name of [COMPOSE_FILE, VARIABLES_FILE]) await rename(join(staged.dir, name), join(dir, name));
    await this.writeMetadata(metadata);
    await this.discard(staged);
  }

  async discard(staged: StagedApp): Promise<void> {
    await rm(staged.dir, { recursive: true, force: true });
  }

  /**
   * Checked with lstat right before Compose is handed the folder: the folder and the device's
   * files in it are what the device made (no symlink, nothing of another kind), and there is no
   * `.env` for Compose to read. APPS_DIR itself is the operator's and may sit behind a symlink.
   */
  async layoutProblems(instance: string): Promise<LayoutProblem[]> {
    const dir = this.dir(instance);
    const problems: LayoutProblem[] = [];
    const kind = async (path: string) => lstat(path).then(
      (stat) => (stat.isSymbolicLink() ? 'a symlink' : stat.isDirectory() ? 'a folder' : stat.isFile() ? 'a file' : 'a special file'),
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      },
    );
    const folder = await kind(dir);
    if (folder === undefined) return problems;
    if (folder !== 'a folder') return [{ path: dir, message: `the instance's folder ${dir} is ${folder}, not a folder the device made` }];
    for (const name of [COMPOSE_FILE, VARIABLES_FILE, METADATA_FILE]) {
      const found = await kind(join(dir, name));
      if (found !== undefined && found !== 'a file') problems.push({ path: join(dir, name), message: `${join(dir, name)} is ${found}, not the file the device wrote` });
    }
    if ((await kind(join(dir, COMPOSE_ENV_FILE))) !== undefined) {
      problems.push({ path: join(dir, COMPOSE_ENV_FILE), message: `${join(dir, COMPOSE_ENV_FILE)} exists: Compose would read it, and the device never writes one` });
    }
    return problems;
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
      stoppedReason: (STOP_REASONS as readonly unknown[]).includes(metadata.stoppedReason) ? metadata.stoppedReason : undefined,
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

  async readCompose(instance: string): Promise<string> {
    return readFile(this.composeFile(instance), 'utf8');
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
