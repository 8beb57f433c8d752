// A fixed-rate (open-loop) load generator for latency: requests leave on a
// schedule whether or not earlier ones have answered, and each one's latency
// runs from when it was due, so a stall counts against every request it
// delays. wrk is closed-loop, and h2load's --rps sends in 10 ms bursts.
// HTTP/2 calls share one connection, as a gRPC channel's do; Node's HTTP/2
// client adds a tail of its own (the raw node:http2 floor row shows it).
// Usage:
//   node bench/latency-probe.js '<json spec>'
// spec: { url, http2, headers, body (base64), uniqueBody?: "…{n}…", rate, seconds }
// Prints one JSON line: { sent, rps, p50, p99, max, errors } (times in ms).
"use strict";
const http = require("node:http");
const http2 = require("node:http2");

const spec = JSON.parse(process.argv[2]);
const url = new URL(spec.url);
const fixedBody = spec.body === undefined ? undefined : Buffer.from(spec.body, "base64");
const bodyFor = (n) => fixedBody ?? Buffer.from(spec.uniqueBody.replaceAll("{n}", `${process.pid}-${n}`));
const latencies = [];
let errors = 0;
let done = 0;

function sendHttp2(session, n, due, finish) {
  let stream;
  try {
    stream = session.request({ ":method": "POST", ":path": url.pathname, ...spec.headers });
  } catch {
    // The server ended the session (GOAWAY): every request after counts as an error.
    finish(due, false);
    return;
  }
  let status = 0;
  let grpcStatus = "0";
  stream.on("response", (headers) => {
    status = headers[":status"];
    if (headers["grpc-status"] !== undefined) grpcStatus = headers["grpc-status"];
  });
  stream.on("trailers", (trailers) => (grpcStatus = trailers["grpc-status"] ?? grpcStatus));
  stream.on("data", () => undefined);
  // A reset (a server refusing more streams answers ENHANCE_YOUR_CALM) counts as an error.
  stream.on("error", () => (status = 0));
  stream.on("close", () => finish(due, status === 200 && grpcStatus === "0"));
  stream.end(bodyFor(n));
}

function sendHttp1(agent, n, due, finish) {
  const body = bodyFor(n);
  const req = http.request(url, { method: "POST", agent, headers: { ...spec.headers, "content-length": body.length } }, (res) => {
    res.on("data", () => undefined);
    res.on("end", () => finish(due, res.statusCode === 200));
  });
  req.on("error", () => finish(due, false));
  req.end(body);
}

async function main() {
  // Flow-control windows as h2load's (2^30 - 1, stream and connection): with Node's
  // default 64 KiB, a List's 20 KB answers wait for window updates and that wait
  // dominated the tail (p99 50-100 ms against 15-17 ms at 520 Lists/s).
  const window = 2 ** 30 - 1;
  const session = spec.http2 ? http2.connect(url.origin, { settings: { initialWindowSize: window } }) : undefined;
  session?.on("connect", () => session.setLocalWindowSize(window));
  session?.on("error", () => undefined);
  const agent = spec.http2 ? undefined : new http.Agent({ keepAlive: true, maxSockets: 64 });
  const send = (n, due, finish) => (session ? sendHttp2(session, n, due, finish) : sendHttp1(agent, n, due, finish));
  const warmUpMs = 1000;
  const total = Math.round(spec.rate * (spec.seconds + warmUpMs / 1000));
  const start = performance.now();
  let sent = 0;
  await new Promise((resolve) => {
    const finish = (due, ok) => {
      // The first second warms connections and the JIT; it is not counted.
      if (due - start >= warmUpMs) {
        latencies.push(performance.now() - due);
        if (!ok) errors++;
      }
      if (++done === total) resolve();
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / spec.rate <= now) {
        send(sent, start + (sent * 1000) / spec.rate, finish);
        sent++;
      }
      if (sent < total) setImmediate(tick);
    };
    tick();
  });
  session?.close();
  agent?.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] * 100) / 100;
  const rps = latencies.length / spec.seconds;
  console.log(JSON.stringify({ sent: latencies.length, rps, p50: at(50), p99: at(99), max: at(100), errors }));
}

main();
