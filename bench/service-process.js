// Starts the service for a benchmark in its production configuration: API
// keys, logs at info, metrics, validation.
"use strict";
const { spawn } = require("node:child_process");
const { closeSync, openSync, readFileSync } = require("node:fs");
const { get } = require("node:http");

const apiKey = "bench-key-0123456789abcdef";

/**
 * Runs `command args` (node and the service's entry, perhaps behind taskset)
 * on `dbFile` at `port`. Returns the child at once and `ready`, which
 * resolves when the service logs that it listens.
 */
function startService(command, args, dbFile, port) {
  // The logs go to a file: a pipe that the benchmark (blocked while a load
  // generator runs) does not read would fill and throttle the service.
  const logFile = `${dbFile}.log`;
  const log = openSync(logFile, "w");
  const child = spawn(command, args, {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: dbFile, INVITES_API_KEYS: `${apiKey}:default`, LOG_LEVEL: "info" },
    stdio: ["ignore", "ignore", log],
  });
  closeSync(log);
  const ready = (async () => {
    for (;;) {
      const text = readFileSync(logFile, "utf8");
      if (text.includes('"msg":"listening"')) return;
      if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}: ${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return { child, ready };
}

/**
 * A GET on a connection of its own: a kept-alive one, idle while a run went
 * on, may be closed by the server just as the next request goes out on it.
 */
function getOnItsOwnConnection(url) {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve(text));
    }).on("error", reject);
  });
}

/**
 * Runs `load` and says how often the service at `baseUrl` held its writes
 * meanwhile, while SQLite's WAL restarted, and for how long in all (from its /metrics).
 */
async function writesHeldDuring(baseUrl, load) {
  const held = async () => {
    const text = await getOnItsOwnConnection(`${baseUrl}/metrics`);
    const value = (name) => Number(new RegExp(`^invites_sqlite_writes_held_seconds_${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    return { times: value("count"), ms: value("sum") * 1000 };
  };
  const before = await held();
  const result = load();
  const after = await held();
  return { result, writesHeld: { times: after.times - before.times, ms: Math.round(after.ms - before.ms) } };
}

module.exports = { apiKey, startService, writesHeldDuring };
