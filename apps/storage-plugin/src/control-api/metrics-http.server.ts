import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { PLUGIN_CONFIG, PluginConfig } from '../config/plugin-config';
import { sendJson } from '../http/unix-socket-server';
import { PluginMetrics } from '../metrics/plugin-metrics';
import { ControlApiRouter } from './control-api.router';

/**
 * STORAGE_METRICS_ADDRESS: GET /metrics and GET /health over TCP, for a Prometheus that cannot
 * reach the control socket. Read-only; nothing else is served there.
 */
@Injectable()
export class MetricsHttpServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server?: Server;

  constructor(
    @Inject(PLUGIN_CONFIG) private readonly config: PluginConfig,
    private readonly metrics: PluginMetrics,
    private readonly router: ControlApiRouter,
  ) {}

  /** The port it really listens on (port 0 picks one), or undefined when it is off. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const address = this.config.metricsAddress;
    if (!address) return;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://metrics').pathname;
      if (req.method !== 'GET') return sendJson(res, 405, { code: 'NOT_FOUND', message: 'Only GET is served here.' });
      if (path === '/health') {
        const { status, body } = this.router.health();
        return sendJson(res, status, body);
      }
      if (path !== '/metrics') return sendJson(res, 404, { code: 'NOT_FOUND', message: 'GET /metrics or /health.' });
      this.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType, 'Content-Length': Buffer.byteLength(text) });
          res.end(text);
        },
        (err: Error) => {
          this.logger.error(`collecting the metrics failed: ${err.message}`);
          sendJson(res, 500, { code: 'INTERNAL', message: 'Unexpected failure.' });
        },
      );
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.log(`metrics on http://${address.host}:${this.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
