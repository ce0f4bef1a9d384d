/**
 * `node:http` exports `WebSocket`, `CloseEvent` and `MessageEvent` as getters that load undici,
 * Node's fetch and WebSocket implementation (~750 KB of source, ~3 MiB of the resident Device).
 * The Device uses none of them, but an ES module that imports anything from `http` (Nest's core
 * does) makes Node build that module's ES namespace, which reads every export: undici loads.
 *
 * `withoutHttpWebExports` runs a load (Nest's, nest-preload.ts) with the three as plain
 * `undefined` properties, and puts the getters back afterwards, even when the load throws. The
 * namespace an ES module sees is built once, at the first such import, so ES modules then see the
 * three as undefined; CommonJS code reading `require('http').WebSocket` gets the real one, loaded on
 * demand as before. (The global `WebSocket` would load undici too, when a library only looks for it:
 * the image's Node flags turn it off, `--no-experimental-websocket`.)
 */
export const HTTP_WEB_EXPORTS = ['WebSocket', 'CloseEvent', 'MessageEvent'] as const;

export function withoutHttpWebExports<T>(load: () => T, http: object = process.getBuiltinModule('node:http')): T {
  // Reading a descriptor does not call its getter.
  const shadowed: Array<[string, PropertyDescriptor]> = [];
  for (const name of HTTP_WEB_EXPORTS) {
    const descriptor = Object.getOwnPropertyDescriptor(http, name);
    if (descriptor?.get && descriptor.configurable) shadowed.push([name, descriptor]);
  }
  for (const [name, descriptor] of shadowed) {
    Object.defineProperty(http, name, { value: undefined, writable: true, enumerable: descriptor.enumerable, configurable: true });
  }
  try {
    return load();
  } finally {
    for (const [name, descriptor] of shadowed) Object.defineProperty(http, name, descriptor);
  }
}
