import { Counter, Histogram, Registry } from "prom-client";
import { labeledCounter, labeledHistogram } from "../../src/observability/labeled-metrics.js";

const buckets = [0.001, 0.01, 0.1, 1];
const observations: [[string, string], number][] = [
  [["Read", "grpc"], 0.0004],
  [["Read", "grpc"], 0.001],
  [["Read", "grpc"], 0.05],
  [["Create", "connect"], 3],
  [["Read", "grpc"], 0.2],
  [["Create", "connect"], 0.01],
  [["Odd \"quoted\\\" \n", "m3o"], 0.5],
];

// prom-client's own metrics, fed the same updates, are the reference for the text.
function reference() {
  const registry = new Registry();
  const counter = new Counter({ name: "calls_total", help: "Calls.", labelNames: ["procedure", "protocol"], registers: [registry] });
  const histogram = new Histogram({ name: "latency_seconds", help: "Latency.", labelNames: ["procedure", "protocol"], buckets, registers: [registry] });
  for (const [[procedure, protocol], value] of observations) {
    counter.inc({ procedure, protocol });
    histogram.observe({ procedure, protocol }, value);
  }
  return registry;
}

function ours() {
  const registry = new Registry();
  const counter = labeledCounter({ registry, name: "calls_total", help: "Calls.", labelNames: ["procedure", "protocol"] });
  const histogram = labeledHistogram({ registry, name: "latency_seconds", help: "Latency.", labelNames: ["procedure", "protocol"], buckets });
  for (const [labels, value] of observations) {
    counter.inc(labels);
    histogram.observe(labels, value);
  }
  return registry;
}

test("the exposition text is prom-client's for the same updates", async () => {
  const expected = await reference().metrics();
  expect(expected).toContain('latency_seconds_bucket{le="0.1",procedure="Read",protocol="grpc"} 3');
  expect(await ours().metrics()).toBe(expected);
});

test("resetMetrics empties them, and they count again after", async () => {
  const registry = new Registry();
  const counter = labeledCounter({ registry, name: "calls_total", help: "Calls.", labelNames: ["code"] });
  counter.inc(["ok"], 2);
  expect(await registry.metrics()).toContain('calls_total{code="ok"} 2');
  registry.resetMetrics();
  expect(await registry.metrics()).not.toContain("calls_total{");
  counter.inc(["ok"]);
  expect(await registry.metrics()).toContain('calls_total{code="ok"} 1');
});

test("label values must match the label names", () => {
  const histogram = labeledHistogram({ registry: new Registry(), name: "h", help: "H.", labelNames: ["a", "b"], buckets });
  // The types refuse it; a caller in JavaScript gets an error rather than a wrong series.
  expect(() => histogram.observe(["only one"] as never, 1)).toThrow("expected label values for a, b");
});

test("a counter only goes up, as prom-client's", () => {
  const counter = labeledCounter({ registry: new Registry(), name: "c_total", help: "C.", labelNames: ["a"] });
  expect(() => counter.inc(["x"], -1)).toThrow(RangeError);
  expect(() => counter.inc(["x"], Number.NaN)).toThrow(RangeError);
});
