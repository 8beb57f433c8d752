// What a request's metrics and its log line cost: the metric updates one Read
// makes, and its request line serialised (the write itself happens once per
// event-loop turn), each timed over many iterations. Run after
// `npm run build`: node bench/observability-cost.js
"use strict";
const { createLogger } = require("../dist/src/logger.js");
const { createMetrics } = require("../dist/src/observability/metrics.js");

const metrics = createMetrics();
const logger = createLogger("info", { write() {} });
const iterations = 500_000;
const read = "invites.v1.InvitesService/Read";

const cases = {
  // As a Read makes them: the store's timing (two clock reads), then the request's count and latency.
  metrics() {
    const started = performance.now();
    metrics.storeDuration.observe(["findInviteByCode", "ok"], (performance.now() - started) / 1000);
    metrics.requests.inc([read, "grpc", "ok"]);
    metrics.requestDuration.observe([read, "grpc"], 0.0003);
  },
  "the log line"() {
    logger.info("request", {
      request_id: "0d9a3a7e-8b1c-4c55-8b0e-0a7e1b2c3d4e",
      procedure: read,
      protocol: "grpc",
      code: "ok",
      reason: undefined,
      http_status: 200,
      duration_ms: 0.123,
      namespace: "default",
    });
  },
};

for (const [name, oneRequest] of Object.entries(cases)) {
  for (let i = 0; i < 50_000; i++) oneRequest();
  for (let run = 1; run <= 3; run++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) oneRequest();
    console.log(`run ${run}: ${(Number(process.hrtime.bigint() - started) / iterations / 1000).toFixed(2)} µs of ${name} per request`);
  }
}
