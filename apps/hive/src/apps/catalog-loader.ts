import { Patterns, describeProblems, isReservedVariable, validatePayload } from '@mosaic/protocol';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppCommandSpec, patternRefusal, wholeMatch } from './app-commands';
import { AppManifest, AppManifestDto } from './catalog-manifest.dto';
import { isToolVariable } from '@mosaic/protocol';
import { inspectTemplate, parseTemplate } from './catalog-template';

export const MANIFEST_FILE = 'app.json';
export const COMPOSE_FILE = 'compose.yaml';

/** One app of the catalog, as read and checked at boot. */
export interface CatalogApp {
  manifest: AppManifest;
  /** compose.yaml exactly as written: the template SchedulerAction.start carries. */
  compose: string;
  commands: Record<string, AppCommandSpec>;
}

/** A catalog the Hive will not start with; each line names the file and what is wrong with it. */
export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`The app catalog is invalid: ${problems.join('; ')}`);
    this.name = 'CatalogError';
  }
}

/** Reads every `<dir>/<app>/{app.json,compose.yaml}`, checks them all, and throws once naming every bad file. */
export function loadCatalog(dir: string): CatalogApp[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CatalogError([`${dir}: the catalog folder (HIVE_CATALOG_DIR) does not exist or is not a folder`]);
  }
  const apps: CatalogApp[] = [];
  const problems: string[] = [];
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  for (const folder of folders) {
    if (!Patterns.appName.test(folder)) {
      problems.push(`${join(dir, folder)}: an app folder's name must match ^[a-z0-9][a-z0-9-]{0,62}$ (it is the app's name)`);
      continue;
    }
    const loaded = loadCatalogApp(join(dir, folder), folder);
    if ('problems' in loaded) problems.push(...loaded.problems);
    else apps.push(loaded.app);
  }
  if (problems.length) throw new CatalogError(problems);
  return apps;
}

/** One app folder; every problem is prefixed with the path of the file it is about. */
export function loadCatalogApp(folder: string, name: string): { app: CatalogApp } | { problems: string[] } {
  const manifestPath = join(folder, MANIFEST_FILE);
  const composePath = join(folder, COMPOSE_FILE);
  const problems: string[] = [];
  const inManifest = (why: string) => problems.push(`${manifestPath}: ${why}`);
  const inCompose = (why: string) => problems.push(`${composePath}: ${why}`);

  const manifest = readManifest(manifestPath, name, inManifest);
  let compose: string | undefined;
  if (!existsSync(composePath)) inCompose('is missing');
  else compose = readFileSync(composePath, 'utf8');
  if (!manifest || compose === undefined) return { problems };

  const doc = parseTemplate(compose);
  if (typeof doc === 'string') {
    inCompose(doc);
    return { problems };
  }
  const { inspected, problems: templateProblems } = inspectTemplate(doc, manifest);
  for (const problem of templateProblems) (problem.startsWith('app.json ') ? inManifest : inCompose)(problem.replace(/^app\.json /, ''));
  return problems.length ? { problems } : { app: { manifest, compose, commands: inspected.commands } };
}

function readManifest(path: string, folder: string, bad: (why: string) => void): AppManifest | undefined {
  if (!existsSync(path)) {
    bad('is missing');
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    bad(`is not valid JSON: ${(err as Error).message}`);
    return undefined;
  }
  const checked = validatePayload(AppManifestDto, json);
  if (!checked.ok) {
    bad(describeProblems(checked.details));
    return undefined;
  }
  const manifest = json as AppManifest;
  let fine = true;
  const problem = (why: string) => {
    fine = false;
    bad(why);
  };
  if (manifest.name !== folder) problem(`name "${manifest.name}" must be the folder's name "${folder}"`);
  for (const [variable, spec] of Object.entries(manifest.variables)) {
    if (isReservedVariable(variable)) problem(`variables.${variable} is reserved: the device sets it`);
    else if (isToolVariable(variable)) problem(`variables.${variable} would steer the device's Docker tools; the device refuses it`);
    const refusal = spec.pattern === undefined ? undefined : patternRefusal(spec.pattern);
    if (refusal) problem(`variables.${variable}.pattern ${refusal}`);
    else if (spec.pattern !== undefined && spec.default !== undefined && !wholeMatch(spec.pattern, spec.default)) {
      problem(`variables.${variable}.default does not match its pattern`);
    }
    if (spec.required && spec.default !== undefined) problem(`variables.${variable} is required, so it cannot have a default`);
    if (spec.secret && spec.default !== undefined)
      problem(`variables.${variable} is secret, so it cannot have a default (the catalog is public)`);
  }
  return fine ? manifest : undefined;
}
