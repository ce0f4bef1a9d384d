import fc from 'fast-check';
import { CommandType } from '@mosaic/protocol';
import { PROTOTYPE_KEYS, hostileString, hostileValue, withOwnKey } from './hostile-values';

/** A template the device refuses before Compose runs (`include`), so a start whose params pass stays cheap. */
export const CHEAP_REFUSED_COMPOSE = 'include: [other.yaml]\nservices:\n  web:\n    image: mosaic-test/busybox\n';

/** The params of each command type, valid, before a mutation. */
export function validParams(type: string, instance: string): Record<string, unknown> {
  switch (type) {
    case CommandType.SchedulerStart:
      return {
        instance,
        application: { appstore: 'Mosaic Fuzz', name: 'fuzz-app', version: '1.0.0' },
        compose: CHEAP_REFUSED_COMPOSE,
        links: { default: { domain: 'fuzz.example.net', token: 'link-token' } },
        variables: { SITE_TITLE: 'fuzz' },
        failover: false,
      };
    case CommandType.SchedulerPrepare:
      return { instance, discard: false };
    case CommandType.SchedulerStop:
      return { instance, replicate: false, remove: false };
    case CommandType.SchedulerReplicate:
      return { instance };
    case CommandType.AppCommandRun:
      return { instance, command: 'echo', args: { text: 'hello' } };
    case CommandType.UpgradeRun:
      return { version: '9.9.9' };
    default:
      return {};
  }
}

/** Names of variables the device keeps for itself or that steer its tools (2.1). */
const RESERVED_VARIABLES = [
  'APP_INSTANCE',
  'APP_VOLUME_NAME',
  'LINK_VOLUME_NAME',
  'LINK_DOMAIN_DEFAULT',
  'LINK_TOKEN_X',
  'PATH',
  'HOME',
  'DOCKER_HOST',
  'COMPOSE_FILE',
  'COMPOSE_PROJECT_NAME',
  'LD_PRELOAD',
  'BUILDKIT_HOST',
  'GODEBUG',
  'TZ',
  'SSL_CERT_FILE',
];

const hostileKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, ...RESERVED_VARIABLES, '', ' ', 'a.b', 'A'.repeat(65)), hostileString);

/** One change to a params object: a field removed, replaced or added, or a nested one changed. */
type Mutation = { op: 'delete' | 'set' | 'add' | 'nested'; path: string[]; key?: string; value?: unknown };

const NESTED: Record<string, string[][]> = {
  [CommandType.SchedulerStart]: [
    ['application', 'appstore'],
    ['application', 'name'],
    ['application', 'version'],
    ['links', 'default', 'domain'],
    ['links', 'default', 'token'],
    ['links'],
    ['variables'],
    ['application'],
  ],
  [CommandType.AppCommandRun]: [['args']],
};

function mutation(fields: string[], nested: string[][]): fc.Arbitrary<Mutation> {
  const options: fc.Arbitrary<Mutation>[] = [
    fc.tuple(hostileKey, hostileValue).map(([key, value]) => ({ op: 'add' as const, path: [], key, value })),
  ];
  if (fields.length) {
    options.push(
      fc.constantFrom(...fields).map((field) => ({ op: 'delete' as const, path: [field] })),
      fc.tuple(fc.constantFrom(...fields), hostileValue).map(([field, value]) => ({ op: 'set' as const, path: [field], value })),
    );
  }
  if (nested.length) {
    options.push(
      fc
        .tuple(fc.constantFrom(...nested), fc.oneof(hostileKey, fc.constant(undefined)), hostileValue)
        .map(([path, key, value]) => ({ op: 'nested' as const, path, key, value })),
    );
  }
  return fc.oneof(...options);
}

/** Applies `m` to a copy of `params`. */
export function applyMutation(params: Record<string, unknown>, m: Mutation): Record<string, unknown> {
  const copy = structuredClone(params);
  if (m.op === 'add') return withOwnKey(copy, m.key!, m.value);
  if (m.op === 'delete') {
    delete copy[m.path[0]];
    return copy;
  }
  if (m.op === 'set') return withOwnKey(copy, m.path[0], m.value);
  // nested: set path to value, or add key=value inside the object at path.
  let target = copy as Record<string, unknown>;
  for (const part of m.path.slice(0, -1)) {
    const inner = target[part];
    // An earlier mutation removed or replaced the object this one reaches into: nothing to change.
    if (!inner || typeof inner !== 'object' || Array.isArray(inner) || Buffer.isBuffer(inner)) return copy;
    target = inner as Record<string, unknown>;
  }
  const last = m.path[m.path.length - 1];
  if (m.key === undefined) withOwnKey(target, last, m.value);
  else {
    const inner = target[last];
    const object = inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
    withOwnKey(
      target,
      last,
      withOwnKey(object, m.key, typeof m.value === 'string' || last === 'links' ? m.value : (JSON.stringify(m.value) ?? 'x')),
    );
  }
  return copy;
}

export interface ParamsCase {
  type: string;
  /** The instance the command names: a new one, or the fuzz's running app (`app`). */
  target: 'new' | 'app';
  mutations: Mutation[];
}

/**
 * Params of every command type, each field mutated (removed, of a wrong type, hostile, or with
 * keys added, prototype names among them). A stop or prepare never names the running app.
 */
export const hostileParams: fc.Arbitrary<ParamsCase> = fc.constantFrom(...Object.values(CommandType)).chain((type) => {
  const fields = Object.keys(validParams(type, 'i'));
  return fc.record({
    type: fc.constant(type),
    target: type === CommandType.AppCommandRun ? fc.constantFrom<'new' | 'app'>('new', 'app') : fc.constant<'new'>('new'),
    mutations: fc.array(mutation(fields, NESTED[type] ?? []), { minLength: 1, maxLength: 3 }),
  });
});

/** The params of `c`, built for `instance` (a new one) and the running app. */
export function paramsOf(c: ParamsCase, instance: string, appInstance: string): Record<string, unknown> {
  return c.mutations.reduce((params, m) => applyMutation(params, m), validParams(c.type, c.target === 'app' ? appInstance : instance));
}
