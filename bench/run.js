// The benchmark: `npm run bench`. Starts the real service and reference
// servers, loads them with h2load (HTTP/2, gRPC) and wrk (HTTP/1.1), prints a
// table and writes JSON to bench/results/. BENCH_SECONDS sets the measured
// window per run (default 4), BENCH_ROUNDS the interleaved rounds (default 2),
// BENCH_ONLY a pattern of case names to run alone (skipping the 1M phase).
// After the peak rounds, each of the service's cases runs again at half of its
// peak, at a fixed rate (bench/latency-probe.c, built here), for its p50 and p99 latency.
// Every run also gives the server's CPU per request (all threads, user and
// system, from /proc): one request at a time costs more than a busy server's
// requests, which share its reads, writes and turns of the event loop.
"use strict";
const { execFileSync, spawn, spawnSync } = require("node:child_process");
const { mkdirSync, mkdtempSync, statSync, writeFileSync, readFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { create, toBinary } = require("@bufbuild/protobuf");
const median = require("./median.js");
const { aptInstall, have, runMain } = require("./bench-tools.js");
const { grpcFrame } = require("./grpc-frame.js");
const { loadResult } = require("./load-output.js");
const { apiKey, startService: startServiceProcess, writesHeldDuring } = require("./service-process.js");
const dist = join(__dirname, "..", "dist");
const pb = require(join(dist, "gen/invites/v1/invites_pb.js"));
const { preload } = require("./preload.js");
const { luaPost, wrkRunName } = require("./wrk-script.js");
const { describeMachine } = require("./machine.js");

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
// The phase at 1,000,000 invites: pairs of 2-s runs against 100,000.
const scaleRounds = Number(process.env.BENCH_SCALE_ROUNDS ?? 6);
const scaleSeconds = 2;
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY, "i") : undefined;
const work = mkdtempSync(join(tmpdir(), "invites-bench-"));
const children = [];

const probeBinary = join(work, "latency-probe");

/** h2load, wrk, and the latency probe built with the C compiler against libnghttp2. */
function ensureLoadGenerators() {
  const nghttp2Headers = spawnSync("sh", ["-c", "echo '#include <nghttp2/nghttp2.h>' | cc -E - >/dev/null 2>&1"]).status === 0;
  if (!have("h2load") || !have("wrk") || !have("cc") || !nghttp2Headers) {
    aptInstall("h2load (nghttp2-client), wrk, gcc and libnghttp2-dev", ["nghttp2-client", "wrk", "gcc", "libnghttp2-dev"]);
  }
  execFileSync("cc", ["-O2", "-o", probeBinary, join(__dirname, "latency-probe.c"), "-lnghttp2"], { stdio: "inherit" });
}

// Server on core 0, load generator on core 1, where the machine has two cores and taskset.
const pinning = require("node:os").cpus().length >= 2 && have("taskset");
const onCore = (core, argv) => (pinning ? ["taskset", ["-c", String(core), ...argv]] : [argv[0], argv.slice(1)]);

// Each server's process by port, for the CPU it spends under load (taskset execs the server, keeping the pid).
const processByPort = new Map();
const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
/** CPU seconds a process has used so far, all its threads, user and system. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/**
 * Runs `load` against the server at `url`, adding to its result the server's
 * CPU per request in µs: all the CPU it used over `requests(result)` requests.
 */
function withCpu(url, requests, load) {
  const server = processByPort.get(Number(new URL(url).port)).pid;
  const before = cpuSeconds(server);
  const result = load();
  return { ...result, cpuUs: Math.round(((cpuSeconds(server) - before) * 1e6) / requests(result)) };
}

function startProcess(argv, port) {
  const [command, args] = onCore(0, argv);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"] });
  children.push(child);
  processByPort.set(port, child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      if (out.includes("listening")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`${argv.join(" ")} exited ${code}`)));
  });
}

// The service runs as `npm start` runs it, Node's flags included.
const startArgs = require("../package.json").scripts.start.split(" ").slice(1).map((arg) => (arg.startsWith("dist/") ? join(__dirname, "..", arg) : arg));

async function startService(dbFile, port) {
  const { child, ready } = startServiceProcess(...onCore(0, [process.execPath, ...startArgs]), dbFile, port);
  children.push(child);
  processByPort.set(port, child);
  await ready;
  return child;
}

const bodyFile = (name, bytes) => {
  const file = join(work, name);
  writeFileSync(file, bytes);
  return file;
};
const binary = (schema, init) => Buffer.from(toBinary(schema, create(schema, init)));
// Where the probe puts 16 digits unique to each request: as wide as they are, so lengths inside a binary body stay right.
const unique = "{nnnnnnnnnnnnnn}";

// A peak run's requests, its unmeasured first second counted at the measured rate.
const atPeak = (duration = seconds) => (result) => result.rps * (duration + 1);

/** h2load: gRPC or Connect over h2c, 8 connections × 16 streams, for `duration` seconds after its warm-up second. */
function h2load(url, file, headers, duration = seconds) {
  const [command, args] = onCore(1, ["h2load", "-c8", "-m16", "-t1", `-D${duration}`, "--warm-up-time=1", "-d", file, ...headers.flatMap((h) => ["-H", h]), url]);
  return withCpu(url, atPeak(duration), () => loadResult(execFileSync(command, args, { encoding: "utf8" })));
}

/**
 * Creates and Accepts over HTTP/2 at peak: the C probe as a closed loop, 8
 * connections × 16 requests in flight as h2load's, each request with a body of
 * its own (h2load repeats one, and a repeated Create or Accept writes nothing).
 * `template` holds the probe's mark (`unique`) where each request's number goes.
 */
function h2UniqueBodies(url, template, headers) {
  return withCpu(url, atPeak(), () => runProbe(url, { http2: true, rate: 0, bodyArgs: [template, "-u", "-c", "8", "-m", "16"], headers }));
}

/**
 * The service (or a floor) at a fixed rate, for latency: see latency-probe.c.
 * h2load's --rps is not used: its timer ticks at most every 10 ms and sends
 * each tick's requests at once, so bursts queue inside the server and count
 * as its latency.
 */
function probe(url, { http2 = false, headers, body, uniqueBody, rate }) {
  const bodyArgs = uniqueBody === undefined ? [body] : [bodyFile(`unique-${Math.random().toString(36).slice(2)}`, uniqueBody), "-u"];
  // The probe offers rate × (seconds + 1) requests, its warm-up second included.
  return withCpu(url, () => Math.round(rate) * (seconds + 1), () => runProbe(url, { http2, rate: Math.round(rate), bodyArgs, headers }));
}

/** Runs the probe (0: a closed loop) on the load generator's core and gives its JSON line. */
function runProbe(url, { http2, rate, bodyArgs, headers }) {
  const { hostname, port, pathname } = new URL(url);
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const argv = [probeBinary, http2 ? "h2" : "h1", hostname, port, pathname, String(rate), String(seconds), ...bodyArgs, ...headerArgs];
  return JSON.parse(execFileSync(...onCore(1, argv), { encoding: "utf8" }));
}

/** wrk: HTTP/1.1, 32 connections, a Lua script building each request; a 1 s run first, not counted, as h2load's warm-up. */
function wrk(url, script) {
  const file = join(work, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(file, script);
  // Each run names its own fresh emails and users (see luaPost): a run repeating the last one's would
  // measure idempotent replays of Create and repeated Accepts, which write nothing.
  const run = (duration) =>
    execFileSync(...onCore(1, ["wrk", "-t1", "-c32", `-d${duration}s`, "--latency", "-s", file, url]), { encoding: "utf8", env: { ...process.env, BENCH_RUN: wrkRunName() } });
  let out;
  const result = withCpu(url, atPeak(), () => {
    run(1);
    out = run(seconds);
    return loadResult(out);
  });
  const latency = (p) => {
    const [, value, unit] = new RegExp(`${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out) ?? [];
    return value === undefined ? undefined : Math.round(Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit] * 100) / 100;
  };
  return { ...result, p50: latency(50), p99: latency(99) };
}

async function main() {
  ensureLoadGenerators();
  const machine = describeMachine();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, kernel ${machine.kernel}, cpuidle ${machine.cpuidle}, Node ${machine.node}`);
  if (!pinning) console.log("note: not pinning (needs taskset and 2 cores); figures are noisier");
  else console.log("server pinned to core 0, load generator to core 1");
  const db100k = join(work, "100k.db");
  console.log("preloading 100,000 invites…");
  const code = await preload(dist, db100k, 100_000);

  const ports = { service: 19080, connectH2: 19081, connectH1: 19082, grpcJs: 19083, rawHttp: 19084, rawHttp2: 19085 };
  const service100k = await startService(db100k, ports.service);
  const ref = (kind, port, ...rest) => startProcess([process.execPath, join(__dirname, "reference-servers.js"), kind, String(port), ...rest], port);
  await Promise.all([
    ref("connect-h2", ports.connectH2), ref("connect-h1", ports.connectH1), ref("grpc-js", ports.grpcJs, db100k),
    ref("raw-http", ports.rawHttp), ref("raw-http2", ports.rawHttp2),
  ]);

  // An unlimited link, for Accept by many distinct users.
  const link = await fetch(`http://127.0.0.1:${ports.service}/invites.v1.InvitesService/Create`, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ group_id: "bench", max_uses: 0, expiration: undefined, never_expires: true }),
  }).then((r) => r.json());

  const svc = (path) => `http://127.0.0.1:${ports.service}${path}`;
  const grpcHeaders = ["content-type: application/grpc", "te: trailers", `authorization: Bearer ${apiKey}`];
  const connectProto = ["content-type: application/proto", "connect-protocol-version: 1", `authorization: Bearer ${apiKey}`];
  const jsonHeaders = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
  const readGrpc = bodyFile("read.grpc", grpcFrame(binary(pb.ReadRequestSchema, { code })));
  const readProto = bodyFile("read.bin", binary(pb.ReadRequestSchema, { code }));
  const listGrpc = bodyFile("list.grpc", grpcFrame(binary(pb.ListRequestSchema, { pageSize: 100 })));
  const listProto = bodyFile("list.bin", binary(pb.ListRequestSchema, { pageSize: 100 }));
  // Creates and Accepts over HTTP/2, each request's email or user its own (see h2UniqueBodies).
  const createMessage = (group) => binary(pb.CreateRequestSchema, { groupId: group, email: `user${unique}@example.com` });
  const acceptMessage = (user) => binary(pb.AcceptRequestSchema, { code: link.invite.code, userId: `${user}${unique}` });
  const createGrpc = (group) => grpcFrame(createMessage(group));
  const acceptGrpc = (user) => grpcFrame(acceptMessage(user));
  const createGrpcFile = bodyFile("create.grpc", createGrpc("grpc"));
  const createProtoFile = bodyFile("create.bin", createMessage("h2c"));
  const acceptGrpcFile = bodyFile("accept.grpc", acceptGrpc("grpc"));
  const acceptProtoFile = bodyFile("accept.bin", acceptMessage("h2c"));
  const readJson = `'{"code":"${code}"}'`;

  const readJsonLua = luaPost(jsonHeaders, readJson);
  // Emails among the preloaded ones (user<i>@example.com), each on a page of its own, as real ones land.
  const createBody = (group) => `{"group_id":"${group}","email":"user${unique}@example.com"}`;
  const createLua = luaPost(jsonHeaders, `'{"group_id":"bench","email":"user' .. scattered(n) .. '-' .. run .. '@example.com"}'`);
  const createM3oLua = luaPost(jsonHeaders, `'{"group_id":"m3o","email":"user' .. scattered(n) .. '-' .. run .. '@example.com"}'`);
  const acceptLua = luaPost(jsonHeaders, `'{"code":"${link.invite.code}","user_id":"u' .. scattered(n) .. '-' .. run .. '"}'`);
  const acceptM3oLua = luaPost(jsonHeaders, `'{"code":"${link.invite.code}","user_id":"m3o' .. scattered(n) .. '-' .. run .. '"}'`);
  const readJsonFile = bodyFile("read.json", readJson.slice(1, -1));
  const listJsonFile = bodyFile("list.json", '{"page_size":100}');
  const listJsonLua = luaPost(jsonHeaders, `'{"page_size":100}'`);
  const grpcProbe = { http2: true, headers: { "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${apiKey}` } };
  const protoProbe = { http2: true, headers: { "content-type": "application/proto", "connect-protocol-version": "1", authorization: `Bearer ${apiKey}` } };
  const jsonProbe = { headers: jsonHeaders };
  // `paced(rate)` runs a case again at a fixed rate, for its latency at half load.
  const allCases = [
    { name: "Read · gRPC · invites", run: () => h2load(svc("/invites.v1.InvitesService/Read"), readGrpc, grpcHeaders), paced: (rate) => probe(svc("/invites.v1.InvitesService/Read"), { ...grpcProbe, body: readGrpc, rate }) },
    { name: "Read · gRPC · plain grpc-js + SQLite", run: () => h2load(`http://127.0.0.1:${ports.grpcJs}/invites.v1.InvitesService/Read`, readGrpc, grpcHeaders), pacedLike: "Read · gRPC · invites", paced: (rate) => probe(`http://127.0.0.1:${ports.grpcJs}/invites.v1.InvitesService/Read`, { ...grpcProbe, body: readGrpc, rate }) },
    { name: "Read · gRPC · connect-node constant", run: () => h2load(`http://127.0.0.1:${ports.connectH2}/invites.v1.InvitesService/Read`, readGrpc, grpcHeaders) },
    { name: "Read · gRPC · raw node:http2 floor", run: () => h2load(`http://127.0.0.1:${ports.rawHttp2}/`, readGrpc, grpcHeaders), pacedLike: "Read · gRPC · invites", paced: (rate) => probe(`http://127.0.0.1:${ports.rawHttp2}/`, { ...grpcProbe, body: readGrpc, rate }) },
    { name: "Read · Connect h2c proto · invites", run: () => h2load(svc("/invites.v1.InvitesService/Read"), readProto, connectProto), paced: (rate) => probe(svc("/invites.v1.InvitesService/Read"), { ...protoProbe, body: readProto, rate }) },
    { name: "Read · Connect h2c proto · connect-node constant", run: () => h2load(`http://127.0.0.1:${ports.connectH2}/invites.v1.InvitesService/Read`, readProto, connectProto) },
    { name: "Read · Connect JSON HTTP/1.1 · invites", run: () => wrk(svc("/invites.v1.InvitesService/Read"), readJsonLua), paced: (rate) => probe(svc("/invites.v1.InvitesService/Read"), { ...jsonProbe, body: readJsonFile, rate }) },
    { name: "Read · Connect JSON HTTP/1.1 · connect-node constant", run: () => wrk(`http://127.0.0.1:${ports.connectH1}/invites.v1.InvitesService/Read`, luaPost({ "content-type": "application/json" }, readJson)) },
    { name: "Read · JSON HTTP/1.1 · raw node:http floor", run: () => wrk(`http://127.0.0.1:${ports.rawHttp}/`, luaPost({ "content-type": "application/json" }, readJson)), pacedLike: "Read · Connect JSON HTTP/1.1 · invites", paced: (rate) => probe(`http://127.0.0.1:${ports.rawHttp}/`, { ...jsonProbe, body: readJsonFile, rate }) },
    { name: "Read · M3O · invites", run: () => wrk(svc("/v1/invites/Read"), readJsonLua), paced: (rate) => probe(svc("/v1/invites/Read"), { ...jsonProbe, body: readJsonFile, rate }) },
    { name: "List 100 · gRPC · invites", run: () => h2load(svc("/invites.v1.InvitesService/List"), listGrpc, grpcHeaders), paced: (rate) => probe(svc("/invites.v1.InvitesService/List"), { ...grpcProbe, body: listGrpc, rate }) },
    { name: "List 100 · Connect h2c proto · invites", run: () => h2load(svc("/invites.v1.InvitesService/List"), listProto, connectProto), paced: (rate) => probe(svc("/invites.v1.InvitesService/List"), { ...protoProbe, body: listProto, rate }) },
    { name: "List 100 · Connect JSON HTTP/1.1 · invites", run: () => wrk(svc("/invites.v1.InvitesService/List"), listJsonLua), paced: (rate) => probe(svc("/invites.v1.InvitesService/List"), { ...jsonProbe, body: listJsonFile, rate }) },
    { name: "List 100 · M3O · invites", run: () => wrk(svc("/v1/invites/List"), listJsonLua), paced: (rate) => probe(svc("/v1/invites/List"), { ...jsonProbe, body: listJsonFile, rate }) },
    { name: "Create · gRPC · invites", run: () => h2UniqueBodies(svc("/invites.v1.InvitesService/Create"), createGrpcFile, grpcProbe.headers), paced: (rate) => probe(svc("/invites.v1.InvitesService/Create"), { ...grpcProbe, uniqueBody: createGrpc("grpc-paced"), rate }) },
    { name: "Create · Connect h2c proto · invites", run: () => h2UniqueBodies(svc("/invites.v1.InvitesService/Create"), createProtoFile, protoProbe.headers), paced: (rate) => probe(svc("/invites.v1.InvitesService/Create"), { ...protoProbe, uniqueBody: createMessage("h2c-paced"), rate }) },
    { name: "Create · Connect JSON HTTP/1.1 · invites", run: () => wrk(svc("/invites.v1.InvitesService/Create"), createLua), paced: (rate) => probe(svc("/invites.v1.InvitesService/Create"), { ...jsonProbe, uniqueBody: createBody("bench-paced"), rate }) },
    { name: "Create · M3O · invites", run: () => wrk(svc("/v1/invites/Create"), createM3oLua), paced: (rate) => probe(svc("/v1/invites/Create"), { ...jsonProbe, uniqueBody: createBody("m3o-paced"), rate }) },
    { name: "Accept · gRPC · invites", run: () => h2UniqueBodies(svc("/invites.v1.InvitesService/Accept"), acceptGrpcFile, grpcProbe.headers), paced: (rate) => probe(svc("/invites.v1.InvitesService/Accept"), { ...grpcProbe, uniqueBody: acceptGrpc("grpc-paced"), rate }) },
    { name: "Accept · Connect h2c proto · invites", run: () => h2UniqueBodies(svc("/invites.v1.InvitesService/Accept"), acceptProtoFile, protoProbe.headers), paced: (rate) => probe(svc("/invites.v1.InvitesService/Accept"), { ...protoProbe, uniqueBody: acceptMessage("h2c-paced"), rate }) },
    { name: "Accept · Connect JSON HTTP/1.1 · invites", run: () => wrk(svc("/invites.v1.InvitesService/Accept"), acceptLua), paced: (rate) => probe(svc("/invites.v1.InvitesService/Accept"), { ...jsonProbe, uniqueBody: `{"code":"${link.invite.code}","user_id":"paced-${unique}"}`, rate }) },
    { name: "Accept · M3O · invites", run: () => wrk(svc("/v1/invites/Accept"), acceptM3oLua), paced: (rate) => probe(svc("/v1/invites/Accept"), { ...jsonProbe, uniqueBody: `{"code":"${link.invite.code}","user_id":"m3o-paced-${unique}"}`, rate }) },
  ];

  const cases = allCases.filter((c) => !only || only.test(c.name));
  const results = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const c of cases) {
      const r = c.run();
      results[c.name].push(r);
      console.log(`round ${round}  ${c.name.padEnd(52)} ${r.rps.toFixed(0).padStart(7)} req/s  CPU ${r.cpuUs} µs/req${r.errors ? `  (${r.errors} errors)` : ""}${r.p99 ? `  p99 ${r.p99}` : ""}`);
    }
  }
  const medianOf = (name) => median(results[name].map((r) => r.rps));

  const figures = Object.fromEntries(cases.map((c) => [c.name, Math.round(medianOf(c.name))]));
  const cpuAtPeak = Object.fromEntries(cases.map((c) => [c.name, Math.round(median(results[c.name].map((r) => r.cpuUs)))]));
  // Each service case at half its own peak; each floor and grpc-js at the rate of the service case it
  // stands beside, which shows what the machine, Node and the probe add by themselves.
  const latency = {};
  for (const c of cases.filter((c) => c.paced && (!c.pacedLike || figures[c.pacedLike]))) {
    const pace = () => c.paced(figures[c.pacedLike ?? c.name] / 2);
    // The service's own cases only: a floor's run holds nothing.
    const { result: r, writesHeld: held } = c.pacedLike ? { result: pace() } : await writesHeldDuring(svc(""), pace);
    latency[c.name] = { rate: Math.round(r.rps), p50: r.p50, p99: r.p99, errors: r.errors, cpuUs: r.cpuUs, writesHeld: held };
    console.log(`fixed rate  ${c.name.padEnd(46)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  CPU ${r.cpuUs} µs/req${held?.times ? `  writes held ${held.times}× (${held.ms} ms)` : ""}${r.errors ? `  (${r.errors} errors)` : ""}`);
  }
  // The 100k service stays up: the scale phase measures it again beside the 1M one.
  for (const child of children.splice(0)) if (child !== service100k) child.kill("SIGKILL");
  children.push(service100k);
  const printFigures = () => {
    console.log(`\n| case | req/s (median of ${rounds}) | CPU µs/request |\n|---|---|---|`);
    for (const [name, value] of Object.entries(figures)) console.log(`| ${name} | ${value} | ${cpuAtPeak[name]} |`);
  };
  const printLatency = () => {
    // How busy the server's core was: one request at a time costs more CPU than at peak, so half of peak is more than half busy.
    // Writes held: how often SQLite's WAL restarted during the run, holding writes, and for how long in all.
    console.log("\n| at a fixed rate: half of the case's peak (floors and grpc-js: the service's rate) | req/s | p50 ms | p99 ms | CPU µs/request (at peak) | core busy | writes held |\n|---|---|---|---|---|---|---|");
    for (const [name, l] of Object.entries(latency)) {
      const held = l.writesHeld ? `${l.writesHeld.times}× (${l.writesHeld.ms} ms)` : "";
      console.log(`| ${name} | ${l.rate} | ${l.p50} | ${l.p99} | ${l.cpuUs} (${cpuAtPeak[name]}) | ${Math.round((l.rate * l.cpuUs) / 1e4)} % | ${held} |`);
    }
  };
  if (only) {
    printFigures();
    printLatency();
    return;
  }

  console.log("preloading 1,000,000 invites…");
  const db1m = join(work, "1m.db");
  const code1m = await preload(dist, db1m, 1_000_000);
  const service1m = await startService(db1m, ports.service + 10);
  const readGrpc1m = bodyFile("read1m.grpc", grpcFrame(binary(pb.ReadRequestSchema, { code: code1m })));
  const svc1m = (path) => `http://127.0.0.1:${ports.service + 10}${path}`;
  // The 100k service has served every case already; the new one gets one unmeasured run of each
  // first, or the comparison is partly of how warm each is (List at 1M: 1.28× slower in the run
  // before this, 0.92× in the run after).
  h2load(svc1m("/invites.v1.InvitesService/Read"), readGrpc1m, grpcHeaders);
  h2load(svc1m("/invites.v1.InvitesService/List"), listGrpc, grpcHeaders);
  // Many short turns of the same cases at 100k and at 1M, each pair back to back, which goes first
  // alternating, and the median of the pairs' ratios: this machine's speed drifts by more than the
  // target's 1.2× between runs seconds apart (two 4-s rounds gave 0.68–1.48× from 2026-11-28 to 30).
  const scale = { "Read · gRPC · 100k": [], "Read · gRPC · 1M": [], "List 100 · gRPC · 100k": [], "List 100 · gRPC · 1M": [] };
  const pair = (name, at100k, at1m, round) => {
    const run100k = () => scale[`${name} · 100k`].push(at100k());
    const run1m = () => scale[`${name} · 1M`].push(at1m());
    if (round % 2) {
      run100k();
      run1m();
    } else {
      run1m();
      run100k();
    }
  };
  for (let round = 1; round <= scaleRounds; round++) {
    const turn = (url, body) => () => h2load(url, body, grpcHeaders, scaleSeconds);
    pair("Read · gRPC", turn(svc("/invites.v1.InvitesService/Read"), readGrpc), turn(svc1m("/invites.v1.InvitesService/Read"), readGrpc1m), round);
    pair("List 100 · gRPC", turn(svc("/invites.v1.InvitesService/List"), listGrpc), turn(svc1m("/invites.v1.InvitesService/List"), listGrpc), round);
  }
  const status = readFileSync(`/proc/${service1m.pid}/status`, "utf8");
  const statusKb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  // RssFile counts mapped files: Node's own binary (≈ 34 MiB) and the database's pages read through SQLite's
  // memory map, which are the kernel's page cache, shared and reclaimable.
  const rssKb = statusKb("VmRSS");
  const rssFileKb = statusKb("RssFile");
  const dbBytes = statSync(db1m).size + (statSync(`${db1m}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  for (const child of children.splice(0)) child.kill("SIGKILL");
  const med = (runs) => median(runs.map((r) => r.rps));

  // The ratio of the medians, and each round's own: the machine drifts between rounds, less within one.
  const ratio = (a, b, runs = results) => [med(runs[a]) / med(runs[b]), runs[a].map((r, i) => r.rps / runs[b][i].rps)];
  const pairedRatio = (a, b) => {
    const each = scale[a].map((r, i) => r.rps / scale[b][i].rps);
    return [median(each), each];
  };
  const targets = [
    ["gRPC Read ≥ 1.0× plain grpc-js + SQLite", ...ratio("Read · gRPC · invites", "Read · gRPC · plain grpc-js + SQLite"), 1.0],
    ["Connect JSON HTTP/1.1 Read ≥ 0.5× raw node:http", ...ratio("Read · Connect JSON HTTP/1.1 · invites", "Read · JSON HTTP/1.1 · raw node:http floor"), 0.5],
    // Over HTTP/2 the Reads' peak is h2load's and the writes' the probe's closed loop, at the same 8 × 16 in flight.
    ...["gRPC", "Connect h2c proto", "Connect JSON HTTP/1.1", "M3O"].flatMap((protocol) =>
      ["Create", "Accept"].map((method) => [`${method} ≥ 0.5× Read (${protocol})`, ...ratio(`${method} · ${protocol} · invites`, `Read · ${protocol} · invites`), 0.5]),
    ),
    ["Read at 1M within 1.2× of 100k (gRPC; median of the pairs)", ...pairedRatio("Read · gRPC · 100k", "Read · gRPC · 1M"), 1.2, "≤"],
    ["List at 1M within 1.2× of 100k (gRPC; median of the pairs)", ...pairedRatio("List 100 · gRPC · 100k", "List 100 · gRPC · 1M"), 1.2, "≤"],
    // A case whose answers failed misses the target however fast they failed.
    ["p99 under 5 ms at half of each case's peak (the worst case, ms)", Math.max(...Object.entries(latency).filter(([name]) => name.endsWith("· invites")).map(([, l]) => (l.errors ? Infinity : l.p99))), [], 5, "<"],
  ];
  printFigures();
  for (const [name, runs] of Object.entries(scale)) console.log(`| ${name} | ${Math.round(med(runs))} | ${Math.round(median(runs.map((r) => r.cpuUs)))} |`);
  printLatency();
  console.log(`\nAt 1,000,000 invites: database ${(dbBytes / 2 ** 20).toFixed(0)} MiB, server RSS ${(rssKb / 1024).toFixed(0)} MiB, ${(rssFileKb / 1024).toFixed(0)} MiB of it mapped files (Node's binary, the database's pages read through the map)`);
  console.log("\n| target | measured | each round | met |\n|---|---|---|---|");
  for (const [name, value, perRound, bound, op] of targets) {
    const met = op === "≤" ? value <= bound : op === "<" ? value < bound : value >= bound;
    console.log(`| ${name} | ${value.toFixed(2)}${op === "<" ? " ms" : "×"} | ${perRound.map((r) => `${r.toFixed(2)}×`).join(", ")} | ${met ? "yes" : "no"} |`);
  }

  const resultsDir = join(__dirname, "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, seconds, rounds, scaleRounds, scaleSeconds, pinning, results, latency, scale, figures, cpuAtPeak, dbBytes, rssKb, rssFileKb, targets }, null, 2));
  console.log(`\nwritten ${file}`);
}

runMain(main, children, work);
