import { Controller, Get, Res } from '@nestjs/common';
import { HiveMetrics } from '../metrics/hive-metrics';

/** What the controller uses of Express's response. */
interface HttpResponse {
  type(contentType: string): HttpResponse;
  send(body: string): unknown;
}

/** Prometheus' scrape target. Open like /api/health: counts and versions, no ids, names or secrets. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: HiveMetrics) {}

  @Get()
  async metricsText(@Res() res: HttpResponse): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
