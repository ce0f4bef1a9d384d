import { Allowed, PROJECT, PolicyScope } from './compose-allow-list';

/** One thing a project asks that the device will not give (§2.2); all are listed at once. */
export interface PolicyViolation {
  service?: string;
  rule: string;
  /** Where in the normalised project, e.g. `services.web.volumes[1]` or `services.web.labels["io.mosaic.x"]`. */
  path?: string;
  message: string;
}

export interface PolicyContext {
  allowedCaps: string[];
  /** The two volumes the device created for the instance. */
  deviceVolumes: string[];
}

type Json = Record<string, unknown>;
type Segment = string | number;

function asObject(value: unknown): Json {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

/** `services.web.volumes[0]`, `services.web.labels["io.mosaic.x"]`: a plain name after a dot, anything else quoted. */
export function formatPath(segments: Segment[]): string {
  return segments
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z0-9_-]+$/.test(s) ? `${i ? '.' : ''}${s}` : `[${JSON.stringify(s)}]`))
    .join('');
}

/**
 * Checks a project as `docker compose config` normalised it (absolute paths, interpolated
 * values) against the allow-list (compose-allow-list.ts), which holds the rules of docs/protocol.md §2.2.
 */
export function checkComposePolicy(project: Json, context: PolicyContext): PolicyViolation[] {
  const scope: PolicyScope = {
    project: typeof project.name === 'string' ? project.name : '',
    services: Object.keys(asObject(project.services)),
    volumes: Object.keys(asObject(project.volumes)),
    allowedCaps: context.allowedCaps,
    deviceVolumes: context.deviceVolumes,
  };
  const violations: PolicyViolation[] = [];
  const add = (at: Segment[], rule: string, message: string) => {
    const service = at[0] === 'services' && typeof at[1] === 'string' ? at[1] : undefined;
    const path = formatPath(at);
    violations.push({ ...(service ? { service } : {}), rule, path, message: `${path}: ${message}` });
  };

  const walk = (value: unknown, allowed: Allowed, at: Segment[]): void => {
    // null is how Compose prints "not set" (`command: null`, `networks: { default: null }`).
    if (value === null || value === undefined || allowed.kind === 'any') return;
    const key = String(at[at.length - 1] ?? '');
    switch (allowed.kind) {
      case 'refused':
        return add(at, allowed.rule, allowed.why);
      case 'checked': {
        const refusal = allowed.rule(value, scope, key);
        if (refusal) return add(at, refusal.rule, refusal.message);
        return walk(value, allowed.inner, at);
      }
      case 'list':
        if (!Array.isArray(value)) return add(at, 'not_allowed', 'is not a list as Compose prints it');
        return value.forEach((item, i) => walk(item, allowed.items, [...at, i]));
      case 'map':
      case 'keys': {
        if (typeof value !== 'object' || Array.isArray(value)) return add(at, 'not_allowed', 'is not a mapping as Compose prints it');
        for (const [name, item] of Object.entries(value)) {
          if (allowed.kind === 'map') {
            const refusal = allowed.key?.(item, scope, name);
            if (refusal) add([...at, name], refusal.rule, refusal.message);
            else walk(item, allowed.entries, [...at, name]);
            // hasOwn, not `in`: `constructor` or `__proto__` must not pass for keys on the list.
          } else if (Object.hasOwn(allowed.keys, name)) {
            walk(item, allowed.keys[name], [...at, name]);
          } else if (!(allowed.extensions && name.startsWith('x-'))) {
            add([...at, name], 'not_allowed', 'is not on the device’s allow-list of what an app may ask for');
          }
        }
        return;
      }
    }
  };
  walk(project, PROJECT, []);
  return violations;
}

/**
 * What Compose reads from the host while it normalises a file (env_file, include, extends,
 * label_file): refused on the raw template, before Compose ever runs.
 */
export function checkTemplateInputs(rawTemplate: Json): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
  const template = asObject(withMergeKeys(rawTemplate));
  if (template.include !== undefined) {
    violations.push({ rule: 'include', message: 'include reads other files; an app is one compose file' });
  }
  for (const [service, raw] of Object.entries(asObject(template.services))) {
    const s = asObject(raw);
    if (s.env_file !== undefined) violations.push({ service, rule: 'env_file', message: 'env_file reads host files; use variables' });
    if (s.label_file !== undefined) violations.push({ service, rule: 'label_file', message: 'label_file reads host files' });
    if ('file' in asObject(s.extends)) {
      violations.push({ service, rule: 'extends', message: 'extends may only name a service of the same file' });
    }
  }
  return violations;
}

/**
 * Applies YAML `<<` merge keys as Compose does. The device parses YAML 1.2, which keeps `<<` as a
 * plain key, so without this an env_file could hide in a merged anchor.
 */
function withMergeKeys(value: unknown, depth = 0): unknown {
  if (depth > 64 || !value || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withMergeKeys(item, depth + 1));
  const own = value as Json;
  const merged: Json = Object.create(null) as Json;
  const sources = '<<' in own ? (Array.isArray(own['<<']) ? own['<<'] : [own['<<']]) : [];
  // Earlier sources win over later ones, and the map's own keys over all of them.
  for (const source of [...sources].reverse()) Object.assign(merged, asObject(withMergeKeys(source, depth + 1)));
  for (const [key, item] of Object.entries(own)) if (key !== '<<') merged[key] = withMergeKeys(item, depth + 1);
  return merged;
}
