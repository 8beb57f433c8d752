import type { Registry } from "prom-client";

// A counter and a histogram for the per-request metrics, exposed through a
// prom-client registry like prom-client's own. prom-client checks and hashes
// a label object on every update (≈ 1.5 µs for a request's three updates
// here); these take label values in the order of their names and find their
// series by one joined key. They keep nothing else: no exemplars, no
// aggregation across workers.

/** One value per label name, in the names' order. */
export type LabelValues<Names extends readonly string[]> = { readonly [K in keyof Names]: string };

export interface LabeledCounter<Names extends readonly string[]> {
  inc(labelValues: LabelValues<Names>, by?: number): void;
}

export interface LabeledHistogram<Names extends readonly string[]> {
  observe(labelValues: LabelValues<Names>, value: number): void;
}

interface MetricSpec<Names extends readonly string[]> {
  registry: Registry;
  name: string;
  help: string;
  labelNames: Names;
}

interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

// Label values here are procedure, protocol and code names: never this character.
const separator = "\u0000";

export function labeledCounter<const Names extends readonly string[]>({ registry, name, help, labelNames }: MetricSpec<Names>): LabeledCounter<Names> {
  const series = new Map<string, { labels: Record<string, string>; value: number }>();
  register(registry, name, help, "counter", () => [...series.values()], () => series.clear());
  return {
    inc(labelValues, by = 1) {
      // As prom-client: a counter only goes up.
      if (!(by >= 0)) throw new RangeError(`${name}: cannot increase by ${by}`);
      const key = labelValues.join(separator);
      let found = series.get(key);
      if (!found) series.set(key, (found = { labels: labelsOf(labelNames, labelValues), value: 0 }));
      found.value += by;
    },
  };
}

export function labeledHistogram<const Names extends readonly string[]>({
  registry,
  name,
  help,
  labelNames,
  buckets,
}: MetricSpec<Names> & { buckets: readonly number[] }): LabeledHistogram<Names> {
  const bounds = [...buckets].sort((a, b) => a - b);
  const series = new Map<string, HistogramSeries>();
  register(registry, name, help, "histogram", () => [...series.values()].flatMap((s) => histogramSamples(name, bounds, s)), () => series.clear());
  return {
    observe(labelValues, value) {
      const key = labelValues.join(separator);
      let found = series.get(key);
      if (!found) series.set(key, (found = { labels: labelsOf(labelNames, labelValues), counts: bounds.map(() => 0), sum: 0, count: 0 }));
      const bucket = bounds.findIndex((bound) => value <= bound);
      if (bucket >= 0) found.counts[bucket]++;
      found.sum += value;
      found.count++;
    },
  };
}

interface HistogramSeries {
  labels: Record<string, string>;
  /** Observations per bucket, not cumulative. */
  counts: number[];
  sum: number;
  count: number;
}

/** Prometheus's cumulative buckets (each counts every observation up to its bound), +Inf, sum and count. */
function histogramSamples(name: string, bounds: number[], { labels, counts, sum, count }: HistogramSeries): Sample[] {
  let cumulative = 0;
  return [
    ...bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { le, ...labels }, value: (cumulative += counts[i]) })),
    { metricName: `${name}_bucket`, labels: { le: "+Inf", ...labels }, value: count },
    { metricName: `${name}_sum`, labels, value: sum },
    { metricName: `${name}_count`, labels, value: count },
  ];
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  if (values.length !== names.length) throw new Error(`expected label values for ${names.join(", ")}`);
  return Object.fromEntries(names.map((name, i) => [name, values[i]]));
}

/**
 * The shape prom-client's registry reads from a metric: `get()` for /metrics,
 * `reset()` for resetMetrics(). Its type wants a whole prom-client metric,
 * hence the cast.
 */
function register(registry: Registry, name: string, help: string, type: "counter" | "histogram", samples: () => Sample[], reset: () => void): void {
  const get = async () => ({ name, help, type, values: samples(), aggregator: "sum" });
  registry.registerMetric({ name, help, get, reset } as unknown as Parameters<Registry["registerMetric"]>[0]);
}
