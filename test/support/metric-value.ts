import { Registry } from 'prom-client';

/**
 * The value of one series in `registry`, or undefined when that series does not exist. `name` may
 * be a histogram's `_count` or `_sum` series.
 */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const base = name.replace(/_(count|sum)$/, '');
  const metric = registry.getSingleMetric(name) ?? registry.getSingleMetric(base);
  if (!metric) throw new Error(`no metric ${name} in the registry`);
  const { values } = await metric.get();
  const wanted = Object.entries(labels);
  const series = values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === name &&
      Object.keys(v.labels).length === wanted.length &&
      wanted.every(([k, value]) => String(v.labels[k]) === value),
  );
  return series?.value;
}
