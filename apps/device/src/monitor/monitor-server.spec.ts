import { AddressInfo } from 'node:net';
import { MonitorRoutes, MonitorServer } from './monitor-server';

describe('MonitorServer (node:http, no framework)', () => {
  let monitor: MonitorServer;
  let url: string;

  beforeEach(async () => {
    monitor = new MonitorServer();
    await new Promise<void>((resolve) => monitor.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(monitor.server.address() as AddressInfo).port}`;
  });
  afterEach(() => monitor.close());

  it('answers 503 "starting" until the Device hands it its routes', async () => {
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'starting' });
  });

  it('hands method and path to the routes and sends their answer as is', async () => {
    const seen: Array<[string | undefined, string | undefined]> = [];
    monitor.serve({
      answer: async (method: string | undefined, path: string | undefined) => {
        seen.push([method, path]);
        return { status: 418, contentType: 'text/plain; version=0.0.4', body: 'teapot' };
      },
    } as unknown as MonitorRoutes);
    const res = await fetch(`${url}/metrics?x=1`);
    expect({ status: res.status, type: res.headers.get('content-type'), body: await res.text() }).toEqual({
      status: 418,
      type: 'text/plain; version=0.0.4',
      body: 'teapot',
    });
    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(418);
    expect(await head.text()).toBe('');
    expect(seen).toEqual([
      ['GET', '/metrics?x=1'],
      ['HEAD', '/metrics'],
    ]);
  });
});

describe('MonitorRoutes', () => {
  const routes = (devtools: boolean, healthy = true) =>
    new MonitorRoutes(
      { devtools } as never,
      { check: async () => ({ status: healthy ? 'ok' : 'unhealthy' }) } as never,
      { registry: { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => 'm 1\n' } } as never,
      { toString: () => '{"nodes":{}}' } as never,
    );

  it('serves /health as 200 or 503 with the checks, /metrics in Prometheus text', async () => {
    expect(await routes(false).answer('GET', '/health')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(await routes(false, false).answer('GET', '/health')).toMatchObject({ status: 503, body: '{"status":"unhealthy"}' });
    expect(await routes(false).answer('GET', '/metrics?name=x')).toEqual({ status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'm 1\n' });
  });

  it('serves the module graph only with DEVTOOLS, and answers anything else 404 as Nest did', async () => {
    expect(await routes(true).answer('GET', '/devtools/graph')).toMatchObject({ status: 200, body: '{"nodes":{}}' });
    const off = await routes(false).answer('GET', '/devtools/graph');
    expect(off.status).toBe(404);
    expect(JSON.parse(off.body)).toEqual({ message: 'The module graph is served only when DEVTOOLS=true.', error: 'Not Found', statusCode: 404 });
    expect(JSON.parse((await routes(false).answer('GET', '/nope')).body)).toEqual({ message: 'Cannot GET /nope', error: 'Not Found', statusCode: 404 });
    expect((await routes(false).answer('POST', '/health')).status).toBe(404);
  });

  it('answers 500 when a check throws, and stays up', async () => {
    const broken = new MonitorRoutes({ devtools: false } as never, { check: async () => Promise.reject(new Error('boom')) } as never, {} as never, {} as never);
    jest.spyOn((broken as unknown as { logger: { error: () => void } }).logger, 'error').mockImplementation(() => undefined);
    expect(await broken.answer('GET', '/health')).toMatchObject({ status: 500 });
  });
});
