// CPU instructions per request, counted by valgrind's callgrind, for a
// machine whose requests per second drift by up to 2× within minutes.
// Usage, after `npm run build`:
//   node bench/instructions.js [read-json|read-grpc|list-json|list-grpc|create] [requests=4000] [concurrency=32]
// Runs the service on a 100,000-invite file under callgrind, with, for the
// Reads, the raw node:http or node:http2 floor beside it (and for gRPC the
// plain grpc-js + SQLite server), sends the requests, `concurrency` at a
// time (32, as wrk does), after as many unmeasured ones, and prints the
// instructions per request of each server: its main thread, and all its
// threads together (V8's collector shares its work between the main thread
// and helpers in proportions that vary). User space only, so the kernel's
// share of a request, its system calls, is not counted. With 32 at a time
// the main thread's count repeated to 1 % here; one at a time it varied by
// about 5 %, and all threads by up to 45 % (timers and idle-time collection
// then do a share of work that depends on how long the run takes).
// Needs valgrind (installed from Debian's packages if missing); takes minutes.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const { mkdtempSync, readFileSync, readdirSync } = require("node:fs");
const http = require("node:http");
const http2 = require("node:http2");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { create, toBinary } = require("@bufbuild/protobuf");
const { aptInstall, have, runMain } = require("./bench-tools.js");
const { grpcFrame } = require("./grpc-frame.js");
const { preload } = require("./preload.js");
const { apiKey } = require("./service-process.js");

const [load = "read-json", requestsArg = "4000", concurrencyArg = "32"] = process.argv.slice(2);
if (!["read-json", "read-grpc", "list-json", "list-grpc", "create"].includes(load)) {
  console.error("usage: node bench/instructions.js [read-json|read-grpc|list-json|list-grpc|create] [requests] [concurrency]");
  process.exit(2);
}
const requests = Number(requestsArg);
const concurrency = Number(concurrencyArg);
const dist = join(__dirname, "..", "dist");
const work = mkdtempSync(join(tmpdir(), "invites-instructions-"));
// vgdb, through which callgrind_control reaches a run, names its pipes after USER and HOST: both sides must agree.
const vgdbEnv = { USER: "root", LOGNAME: "root", HOST: "127.0.0.1" };
const children = [];

/** Starts `args` under callgrind, and resolves once its log says it listens. */
function underCallgrind(name, args, env) {
  const log = join(work, `${name}.log`);
  const child = spawn("sh", ["-c", `exec valgrind --tool=callgrind --smc-check=all-non-file --separate-threads=yes --callgrind-out-file=${join(work, name)}.%p ${args.map((a) => `'${a}'`).join(" ")} > '${log}' 2>&1`], {
    env: { ...process.env, ...env, ...vgdbEnv },
  });
  children.push(child);
  const ready = (async () => {
    for (;;) {
      const text = readFileSync(log, { encoding: "utf8", flag: "a+" });
      if (/listening/.test(text)) return;
      if (child.exitCode !== null) throw new Error(`${name} exited: ${text.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return { name, child, ready };
}

const control = (pid, action) => execFileSync("callgrind_control", [action, String(pid)], { env: { ...process.env, ...vgdbEnv }, stdio: "ignore" });

/** Sends `count` requests, `concurrency` at a time; rejects on any answer but success. */
async function send(target, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) await target.call(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function http1Target(port, path, body) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
  return {
    call: (i) =>
      new Promise((resolve, reject) => {
        const text = body(i);
        const req = http.request({ port, path, method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(text) } }, (res) => {
          res.resume().on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        });
        req.on("error", reject).end(text);
      }),
    close: () => agent.destroy(),
  };
}

function grpcTarget(port, path, frame) {
  // Connected at the first call, once the server listens.
  let session;
  const headers = { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", authorization: `Bearer ${apiKey}` };
  return {
    call: () =>
      new Promise((resolve, reject) => {
        session ??= http2.connect(`http://127.0.0.1:${port}`);
        const stream = session.request(headers);
        stream.on("trailers", (trailers) => (trailers["grpc-status"] === "0" ? resolve() : reject(new Error(`grpc-status ${trailers["grpc-status"]}`))));
        stream.on("error", reject).resume().end(frame);
      }),
    close: () => session?.close(),
  };
}

/** Instructions per request of a server, main thread and all threads: counters zeroed after a warm-up, dumped after the measured requests. */
async function measure(server, target) {
  await server.ready;
  await send(target, requests);
  control(server.child.pid, "--zero");
  await send(target, requests);
  control(server.child.pid, "--dump");
  target.close();
  server.child.kill("SIGTERM");
  await new Promise((resolve) => server.child.once("exit", resolve));
  // One file per thread: GC helpers share a collection's work with the main thread in proportions that vary.
  const prefix = `${server.name}.${server.child.pid}.1-`;
  const count = (name) => Number(/^summary: (\d+)/m.exec(readFileSync(join(work, name), "utf8"))[1]);
  const dumps = readdirSync(work).filter((name) => name.startsWith(prefix));
  const all = dumps.reduce((sum, name) => sum + count(name), 0);
  return { main: count(`${prefix}01`) / requests, all: all / requests };
}

async function main() {
  if (!have("valgrind")) aptInstall("valgrind", ["valgrind"]);
  const file = join(work, "100k.db");
  const code = await preload(dist, file, 100_000);
  const pb = require(join(dist, "gen/invites/v1/invites_pb.js"));
  const service = underCallgrind("service", [process.execPath, join(dist, "src/cli.js"), "serve"], {
    PORT: "19180", DATABASE_URL: file, INVITES_API_KEYS: `${apiKey}:default`, LOG_LEVEL: "info",
  });
  const reference = (kind, port, ...rest) => underCallgrind(kind, [process.execPath, join(__dirname, "reference-servers.js"), kind, String(port), ...rest], {});
  const readFrame = grpcFrame(Buffer.from(toBinary(pb.ReadRequestSchema, create(pb.ReadRequestSchema, { code }))));
  const listFrame = grpcFrame(Buffer.from(toBinary(pb.ListRequestSchema, create(pb.ListRequestSchema, { pageSize: 100 }))));
  const path = (method) => `/invites.v1.InvitesService/${method}`;
  // Each server with the client for it; only the chosen load's reference servers start.
  const pairs = {
    "read-json": () => [
      [service, http1Target(19180, path("Read"), () => JSON.stringify({ code }))],
      [reference("raw-http", 19181), http1Target(19181, "/", () => JSON.stringify({ code }))],
    ],
    "read-grpc": () => [
      [service, grpcTarget(19180, path("Read"), readFrame)],
      [reference("raw-http2", 19181), grpcTarget(19181, "/", readFrame)],
      [reference("grpc-js", 19182, file), grpcTarget(19182, path("Read"), readFrame)],
    ],
    "list-json": () => [[service, http1Target(19180, path("List"), () => JSON.stringify({ page_size: 100 }))]],
    "list-grpc": () => [[service, grpcTarget(19180, path("List"), listFrame)]],
    create: () => [[service, http1Target(19180, path("Create"), (i) => JSON.stringify({ group_id: "instructions", email: `i${process.pid}-${i}-${Date.now()}@example.com` }))]],
  }[load];
  const chosen = pairs();
  const counts = await Promise.all(chosen.map(([server, target]) => measure(server, target)));
  console.log(`${load}, ${requests} requests ${concurrency} at a time, instructions per request (main thread / all threads):`);
  chosen.forEach(([server], i) => {
    const { main, all } = counts[i];
    const ratio = i === 0 ? "" : `  (${server.name}/service ${(main / counts[0].main).toFixed(2)} / ${(all / counts[0].all).toFixed(2)})`;
    console.log(`  ${server.name.padEnd(9)} ${Math.round(main)} / ${Math.round(all)}${ratio}`);
  });
}

runMain(main, children, work);
