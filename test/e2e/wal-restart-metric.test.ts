import { Worker } from "node:worker_threads";
import { postJson } from "../support/http.js";
import { createSqliteDatabase } from "../support/test-database.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const apiKey = "wal-metric-key-0123456789";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ apiKeysText: `${apiKey}:acme`, testDatabase: createSqliteDatabase() });
});
afterAll(async () => {
  await server.close();
  await server.database.remove();
});

/** The writes-held histogram's count and sum, from one reading of /metrics. */
const writesHeld = async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^invites_sqlite_writes_held_seconds_${name} (\\S+)$`, "m").exec(text)?.[1]);
  return { count: value("count"), sum: value("sum") };
};

/**
 * Commits into the service's file from a connection of its own, one small
 * transaction after another, until told to stop: a WAL that never stops
 * growing, which the checkpoint worker can only restart by holding writes.
 */
function writeWithoutPause(filename: string) {
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     const Database = require(workerData.driver);
     const db = new Database(workerData.filename, { timeout: 5000 });
     // Copying the WAL back is left to the service, as its own connection leaves it.
     db.pragma("wal_autocheckpoint = 0");
     db.exec("CREATE TABLE IF NOT EXISTS pressure (v BLOB)");
     const insert = db.prepare("INSERT INTO pressure (v) VALUES (randomblob(2000))");
     let stopped = false;
     parentPort.on("message", () => (stopped = true));
     const burst = () => {
       for (let i = 0; i < 200; i++) insert.run();
       if (!stopped) return setImmediate(burst);
       db.close();
       parentPort.close();
     };
     burst();`,
    { eval: true, workerData: { driver: require.resolve("better-sqlite3"), filename } },
  );
  return async () => {
    worker.postMessage("stop");
    await new Promise((resolve) => worker.once("exit", resolve));
  };
}

test("each time writes are held for a restart of SQLite's WAL shows in /metrics, with how long", async () => {
  expect((await writesHeld()).count).toBe(0);
  const stopWriting = writeWithoutPause(server.database.url.slice("sqlite:".length));
  // Time enough for a loaded CI machine running every project at once.
  const deadline = Date.now() + 50_000;
  try {
    while ((await writesHeld()).count === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await stopWriting();
  }
  // The service's own writes wait out the holds and go on.
  const res = await postJson(`${server.url}/invites.v1.InvitesService/Create`, { group_id: "wal", email: "after@example.com" }, { authorization: `Bearer ${apiKey}` });
  expect(res.status).toBe(200);
  const { count, sum } = await writesHeld();
  expect(count).toBeGreaterThan(0);
  // In seconds: a hold is let go after about 50 ms, so it never counts whole seconds.
  expect(sum).toBeGreaterThan(0);
  expect(sum).toBeLessThan(count);
}, 60_000);
