/**
 * A strict fake (STYLE.md "Strict fakes"): an object that has only what the test gave it. Reading
 * any other property throws at once, naming the fake and the property, instead of quietly
 * returning `undefined` and letting the code under test carry on with a hole in it.
 *
 * A few lookups are answered with `undefined` rather than an error, because tools probe for them
 * on any object without meaning to use the fake:
 * - symbols (util.inspect, iterators, jest's own markers);
 * - `then` (every `await`/Promise.resolve of a value asks whether it is a thenable);
 * - `toJSON`, `constructor`, `asymmetricMatch`, `$$typeof`, `nodeType`, `_isMockFunction` and
 *   `@@__IMMUTABLE_…` (JSON.stringify and jest's matchers and pretty-printer);
 * - Nest's lifecycle hooks (`onModuleInit` …), so a fake can stand in for a provider with
 *   `Test.createTestingModule(...).overrideProvider(X).useValue(strictFake<X>({...}))`.
 *
 * Properties are looked up on `impl` (own or inherited), so an instance of a small hand-written
 * class works as well as an object literal, and mutating `impl` later is seen by the fake.
 */
const PROBES = new Set<string>([
  'then',
  'toJSON',
  'constructor',
  'asymmetricMatch',
  '$$typeof',
  'nodeType',
  'tagName',
  '_isMockFunction',
  'onModuleInit',
  'onApplicationBootstrap',
  'onModuleDestroy',
  'beforeApplicationShutdown',
  'onApplicationShutdown',
]);

export class StrictFakeError extends Error {
  override name = 'StrictFakeError';
}

export function strictFake<T>(impl: Partial<T>, name = 'strict fake'): T {
  const target = impl as object;
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (prop in obj) return Reflect.get(obj, prop, receiver);
      if (typeof prop === 'symbol' || PROBES.has(prop) || prop.startsWith('@@__IMMUTABLE')) return undefined;
      throw new StrictFakeError(`${name}: the test did not provide "${prop}" (the code under test read it)`);
    },
    set(obj, prop, value) {
      if (typeof prop === 'string' && !(prop in obj)) {
        throw new StrictFakeError(`${name}: the code under test set "${prop}", which the test did not provide`);
      }
      return Reflect.set(obj, prop, value);
    },
  }) as T;
}
