import { HTTP_WEB_EXPORTS, withoutHttpWebExports } from './http-web-exports';

/** An object shaped like node:http's exports: the three web exports as getters that count their reads. */
function fakeHttp() {
  const reads: string[] = [];
  const http: Record<string, unknown> = { STATUS_CODES: { 200: 'OK' } };
  for (const name of HTTP_WEB_EXPORTS) {
    Object.defineProperty(http, name, {
      configurable: true,
      enumerable: true,
      get: () => {
        reads.push(name);
        return class {};
      },
    });
  }
  return { http, reads };
}

describe('withoutHttpWebExports', () => {
  it('shows the web exports as undefined while the load runs, without calling their getters', () => {
    const { http, reads } = fakeHttp();
    const seen = withoutHttpWebExports(() => HTTP_WEB_EXPORTS.map((name) => [name, http[name]]), http);
    expect(seen).toEqual(HTTP_WEB_EXPORTS.map((name) => [name, undefined]));
    // What an ES namespace reads: every export's value.
    withoutHttpWebExports(() => Object.keys(http).map((k) => http[k]), http);
    expect(reads).toEqual([]);
  });

  it('puts the getters back afterwards, also when the load throws', () => {
    const { http, reads } = fakeHttp();
    const getters = HTTP_WEB_EXPORTS.map((name) => Object.getOwnPropertyDescriptor(http, name)!.get);
    expect(() =>
      withoutHttpWebExports(() => {
        throw new Error('a load that fails');
      }, http),
    ).toThrow('a load that fails');
    expect(HTTP_WEB_EXPORTS.map((name) => Object.getOwnPropertyDescriptor(http, name)!.get)).toEqual(getters);
    expect(typeof http.WebSocket).toBe('function');
    expect(reads).toEqual(['WebSocket']);
  });

  it('leaves alone what is not a configurable getter (a Node without them, or one that made them plain values)', () => {
    const http = { WebSocket: 'plain', STATUS_CODES: {} };
    Object.defineProperty(http, 'CloseEvent', { get: () => 'fixed', enumerable: true, configurable: false });
    expect(withoutHttpWebExports(() => [http.WebSocket, (http as Record<string, unknown>).CloseEvent], http)).toEqual(['plain', 'fixed']);
  });

  it('works on the real node:http, whose three exports are getters', () => {
    const http = process.getBuiltinModule('node:http') as unknown as Record<string, unknown>;
    for (const name of HTTP_WEB_EXPORTS) expect(typeof Object.getOwnPropertyDescriptor(http, name)?.get).toBe('function');
    expect(withoutHttpWebExports(() => HTTP_WEB_EXPORTS.map((name) => http[name]))).toEqual([undefined, undefined, undefined]);
    for (const name of HTTP_WEB_EXPORTS) expect(typeof Object.getOwnPropertyDescriptor(http, name)?.get).toBe('function');
  });
});
