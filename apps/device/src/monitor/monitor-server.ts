import { Inject, Injectable, Logger } from '@nestjs/common';
import { SerializedGraph } from '@nestjs/core';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DeviceMetrics } from '../metrics/device-metrics';
import { DeviceHealthService } from './device-health.service';

export interface MonitorAnswer {
  status: number;
  contentType: string;
  body: string;
}

const json = (status: number, value: unknown): MonitorAnswer => ({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(value) });
/** The shape Nest's own HTTP errors have, which this surface answered with when it ran on Express. */
const notFound = (message: string): MonitorAnswer => json(404, { message, error: 'Not Found', statusCode: 404 });

/**
 * The device's only HTTP surface, for the machine it runs on: health (the image's HEALTHCHECK),
 * Prometheus metrics, and the module graph when DEVTOOLS is on. Read-only; nothing here acts.
 * Served by a plain node:http server (MonitorServer): three GET routes need no web framework, and
 * Express with Nest's router cost the resident Device about 4 MB.
 */
@Injectable()
export class MonitorRoutes {
  private readonly logger = new Logger('Monitor');

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly health: DeviceHealthService,
    private readonly metrics: DeviceMetrics,
    private readonly graph: SerializedGraph,
  ) {}

  async answer(method: string | undefined, url: string | undefined): Promise<MonitorAnswer> {
    const path = (url ?? '/').split('?')[0];
    if (method !== 'GET' && method !== 'HEAD') return notFound(`Cannot ${method ?? '?'} ${path}`);
    try {
      switch (path) {
        case '/health': {
          // 200 when healthy, 503 otherwise; the body says which check failed.
          const health = await this.health.check();
          return json(health.status === 'ok' ? 200 : 503, health);
        }
        case '/metrics':
          return { status: 200, contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
        case '/devtools/graph':
          // Nest's module graph snapshot (the devtools format), only when DEVTOOLS=true.
          if (!this.config.devtools) return notFound('The module graph is served only when DEVTOOLS=true.');
          return { status: 200, contentType: 'application/json', body: this.graph.toString() };
        default:
          return notFound(`Cannot GET ${path}`);
      }
    } catch (err) {
      this.logger.error(`GET ${path} failed: ${(err as Error).stack ?? String(err)}`);
      return json(500, { message: 'Internal server error', statusCode: 500 });
    }
  }
}

/**
 * The HTTP server of /health and /metrics. It is made (and bound, by main.ts) before the Device
 * starts, so a taken address stops the Device at once; until `serve` hands it the started
 * Device's routes it answers 503 "starting".
 */
export class MonitorServer {
  readonly server: Server;
  private routes: MonitorRoutes | undefined;

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  serve(routes: MonitorRoutes): void {
    this.routes = routes;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = this.routes ? await this.routes.answer(req.method, req.url) : json(503, { status: 'starting' });
    res.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.body) });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }
}
