// Compares two builds of the service on one load, in alternating 2-second
// turns, so that the machine's drift (up to 2× within minutes here) falls on
// both alike. Usage, after `npm run build` of each version into its own folder
// inside the checkout (so that node_modules resolves):
//   node bench/compare.js <distA> <distB> <read-grpc|read-json|read-get|read-grpc-web|list-grpc|list-json|create> [pairs=10]
// Prints each build's requests per second per turn and the median of the
// paired ratios B/A. Both run on copies of one file of 100,000 invites, as
// the benchmark's. Servers on core 0, the load generator on core 1.
"use strict";
const { execFileSync } = require("node:child_process");
const { copyFileSync, mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join, resolve } = require("node:path");
const { create, toBinary } = require("@bufbuild/protobuf");
const { grpcFrame } = require("./grpc-frame.js");
const { loadResult } = require("./load-output.js");
const median = require("./median.js");
const { preload } = require("./preload.js");
const { apiKey, startService } = require("./service-process.js");
const { luaPost, wrkRunName } = require("./wrk-script.js");

const [distA, distB, load, pairsArg] = process.argv.slice(2);
if (!distA || !distB || !["read-grpc", "read-json", "read-get", "read-grpc-web", "list-grpc", "list-json", "create"].includes(load)) {
  console.error("usage: node bench/compare.js <distA> <distB> <read-grpc|read-json|read-get|read-grpc-web|list-grpc|list-json|create> [pairs]");
  process.exit(2);
}
const pairs = Number(pairsArg ?? 10);
const work = mkdtempSync(join(tmpdir(), "invites-compare-"));
// The query of a Connect GET of the Read, as connect-web sends it with useHttpGet.
let getQuery;

async function main() {
  // One file of 100,000 invites, as the benchmark's, copied for each build; reads look up one in the middle.
  const seed = join(work, "seed.db");
  const code = await preload(resolve(distA), seed, 100_000);
  getQuery = `connect=v1&encoding=json&message=${encodeURIComponent(JSON.stringify({ code }))}`;
  const pb = require(resolve(distA, "gen/invites/v1/invites_pb.js"));
  const body = Buffer.from(toBinary(pb.ReadRequestSchema, create(pb.ReadRequestSchema, { code })));
  writeFileSync(join(work, "read.grpc"), grpcFrame(body));
  writeFileSync(join(work, "list.grpc"), grpcFrame(Buffer.from(toBinary(pb.ListRequestSchema, create(pb.ListRequestSchema, { pageSize: 100 })))));
  const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
  writeFileSync(join(work, "read.lua"), luaPost(headers, `'{"code":"${code}"}'`));
  // gRPC-Web as a browser's client sends it over HTTP/1.1: the framed message, written as Lua's decimal escapes.
  const webHeaders = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", authorization: `Bearer ${apiKey}` };
  writeFileSync(join(work, "read-grpc-web.lua"), luaPost(webHeaders, `"${[...grpcFrame(body)].map((byte) => `\\${byte}`).join("")}"`));
  writeFileSync(join(work, "list-json.lua"), luaPost(headers, `'{"page_size":100}'`));
  writeFileSync(join(work, "create.lua"), luaPost(headers, `'{"group_id":"compare","email":"user' .. scattered(n) .. '-' .. run .. '@example.com"}'`));

  const servers = [distA, distB].map((dist, i) => start(dist, seed, 9700 + i));
  await Promise.all(servers.map((s) => s.ready));
  try {
    for (const s of servers) run(s.port, 2); // warm-up
    const results = [[], []];
    for (let turn = 0; turn < pairs; turn++) {
      for (const i of turn % 2 ? [1, 0] : [0, 1]) results[i].push(run(servers[i].port, 2));
    }
    const ratios = results[1].map((b, i) => b / results[0][i]);
    console.log(`A ${distA}: ${results[0].map(Math.round).join(" ")}`);
    console.log(`B ${distB}: ${results[1].map(Math.round).join(" ")}`);
    console.log(`${load}: median B/A ${median(ratios).toFixed(3)} (pairs ${ratios.map((r) => r.toFixed(2)).join(" ")})`);
  } finally {
    for (const s of servers) s.child.kill("SIGTERM");
    rmSync(work, { recursive: true, force: true });
  }
}

function start(dist, seed, port) {
  const file = join(work, `${port}.db`);
  copyFileSync(seed, file);
  return { port, ...startService("taskset", ["-c", "0", process.execPath, resolve(dist, "src/cli.js"), "serve"], file, port) };
}

function run(port, seconds) {
  const method = { create: "Create", "list-grpc": "List", "list-json": "List" }[load] ?? "Read";
  const url = `http://127.0.0.1:${port}/invites.v1.InvitesService/${method}`;
  const argv = load === "read-get"
    ? ["wrk", "-t1", "-c32", `-d${seconds}s`, "-H", `authorization: Bearer ${apiKey}`, `${url}?${getQuery}`]
    : load.endsWith("-grpc")
    ? ["h2load", "-c8", "-m16", "-t1", `-D${seconds}`, "-d", join(work, load === "list-grpc" ? "list.grpc" : "read.grpc"), "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", `authorization: Bearer ${apiKey}`, url]
    : ["wrk", "-t1", "-c32", `-d${seconds}s`, "-s", join(work, { create: "create.lua", "list-json": "list-json.lua", "read-grpc-web": "read-grpc-web.lua" }[load] ?? "read.lua"), url];
  const out = execFileSync("taskset", ["-c", "1", ...argv], { encoding: "utf8", env: { ...process.env, BENCH_RUN: wrkRunName() } });
  const { rps, errors } = loadResult(out);
  if (errors > 0 || rps === 0) throw new Error(`errors under load:\n${out}`);
  return rps;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
