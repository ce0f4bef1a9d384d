import { collectDefaultMetrics } from 'prom-client';
import { DeviceMetrics, EVENT_LOOP_SAMPLE_MS } from './device-metrics';

// The real prom-client, with its default metrics' setup watched (node:perf_hooks cannot be spied on).
jest.mock('prom-client', () => {
  const actual = jest.requireActual('prom-client');
  return { ...actual, collectDefaultMetrics: jest.fn(actual.collectDefaultMetrics) };
});

describe('DeviceMetrics', () => {
  it('samples the event loop once a second, not prom-client’s every 10 ms that keeps an idle Device awake', () => {
    const metrics = new DeviceMetrics();
    expect(collectDefaultMetrics).toHaveBeenCalledWith({ register: metrics.registry, prefix: 'mosaic_device_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    expect(EVENT_LOOP_SAMPLE_MS).toBeGreaterThanOrEqual(1000);
  });

  it('still reports the event loop lag and Node’s other defaults, under its prefix', async () => {
    const text = await new DeviceMetrics().registry.metrics();
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total']) {
      expect(text).toMatch(new RegExp(`^mosaic_device_${name}(\\{[^}]*\\})? \\S+$`, 'm'));
    }
  });
});
