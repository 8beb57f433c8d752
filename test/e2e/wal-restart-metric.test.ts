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

test("each restart of SQLite's WAL shows in /metrics as the time writes were held", async () => {
  expect((await writesHeld()).count).toBe(0);
  // One Create at a time is a commit of its own, about a dozen WAL frames: a few hundred pass the
  // 4,096 pages at which the checkpoint worker restarts the WAL.
  // Time enough for a loaded CI machine running every project at once.
  const deadline = Date.now() + 50_000;
  let created = 0;
  while ((await writesHeld()).count === 0 && Date.now() < deadline) {
    for (let i = 0; i < 50; i++, created++) {
      const res = await postJson(`${server.url}/invites.v1.InvitesService/Create`, { group_id: "wal", email: `u${created}@example.com` }, { authorization: `Bearer ${apiKey}` });
      expect(res.status).toBe(200);
    }
  }
  const { count, sum } = await writesHeld();
  expect(count).toBeGreaterThan(0);
  // In seconds: a hold is let go after about 50 ms, so it never counts whole seconds.
  expect(sum).toBeGreaterThan(0);
  expect(sum).toBeLessThan(count);
}, 60_000);
