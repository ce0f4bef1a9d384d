import { Controller, Get, Header, HttpStatus, Inject, NotFoundException, Res } from '@nestjs/common';
import { SerializedGraph } from '@nestjs/core';
import { DEVICE_CONFIG, DeviceConfig } from '../config/device-config';
import { DeviceMetrics } from '../metrics/device-metrics';
import { DeviceHealth, DeviceHealthService } from './device-health.service';

/** What the controller uses of Express's response. */
interface HttpResponse {
  status(code: number): unknown;
  type(contentType: string): HttpResponse;
  send(body: string): unknown;
}

/**
 * The device's only HTTP surface, for the machine it runs on: health (the image's HEALTHCHECK),
 * Prometheus metrics, and the module graph when DEVTOOLS is on. Read-only; nothing here acts.
 */
@Controller()
export class MonitorController {
  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly health: DeviceHealthService,
    private readonly metrics: DeviceMetrics,
    private readonly graph: SerializedGraph,
  ) {}

  /** 200 when healthy, 503 otherwise; the body says which check failed. */
  @Get('health')
  async getHealth(@Res({ passthrough: true }) res: HttpResponse): Promise<DeviceHealth> {
    const health = await this.health.check();
    res.status(health.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return health;
  }

  @Get('metrics')
  async getMetrics(@Res() res: HttpResponse): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }

  /** Nest's module graph snapshot (the devtools format), only when DEVTOOLS=true. */
  @Get('devtools/graph')
  @Header('Content-Type', 'application/json')
  getGraph(): string {
    if (!this.config.devtools) throw new NotFoundException('The module graph is served only when DEVTOOLS=true.');
    return this.graph.toString();
  }
}
