import { execFile } from "node:child_process";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { postJson } from "../support/http.js";
import { killLeftoverServers, runCli, startServerProcess, type ServerProcess } from "../support/server-process.js";
import { createPostgresDatabase, postgresAdminUrl, type TestDatabase } from "../support/test-database.js";

afterAll(() => killLeftoverServers());

const call = (server: ServerProcess, method: string, body: unknown) => postJson(`${server.url}/invites.v1.InvitesService/${method}`, body);

describe("three replicas on one PostgreSQL database", () => {
  let database: TestDatabase;
  let replicas: ServerProcess[];
  beforeAll(async () => {
    database = await createPostgresDatabase();
    // Started together on an empty database: the migration lock lets one migrate.
    replicas = await Promise.all([1, 2, 3].map(() => startServerProcess({ DATABASE_URL: database.url })));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await database.remove();
  });
  const spread = (i: number) => replicas[i % replicas.length];

  test("concurrent creates of one email and group across replicas make exactly one invite", async () => {
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(spread(i), "Create", { group_id: "team", email: "Same@Example.com" })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(new Set(results.map((r) => r.json.invite.id)).size).toBe(1);
    const listed = await call(replicas[0], "List", { group_id: "team" });
    expect(listed.json.invites).toHaveLength(1);
  });

  test("concurrent accepts of a single-use invite across replicas: exactly one redemption", async () => {
    const invite = (await call(replicas[0], "Create", { group_id: "g", open_link: true })).json.invite;
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(spread(i), "Accept", { code: invite.code, user_id: `user-${i}` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const reasons = results.filter((r) => r.status !== 200).map((r) => r.json.details[0].debug.reason);
    expect(reasons).toEqual(Array(59).fill("INVITE_USED_UP"));
    const acceptances = await call(replicas[2], "ListAcceptances", { id: invite.id });
    expect(acceptances.json.acceptances).toHaveLength(1);
  });

  test("fifty users racing for a ten-use invite across replicas: exactly ten", async () => {
    const invite = (await call(replicas[1], "Create", { group_id: "g", max_uses: 10 })).json.invite;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(spread(i), "Accept", { code: invite.code, user_id: `user-${i}` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    const read = await call(replicas[2], "Read", { id: invite.id });
    expect(read.json.invite).toMatchObject({ use_count: 10, state: "INVITE_STATE_ACCEPTED" });
  });

  test("the same user accepting on every replica at once uses the invite once", async () => {
    const invite = (await call(replicas[0], "Create", { group_id: "g", max_uses: 5 })).json.invite;
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => call(spread(i), "Accept", { code: invite.code, user_id: "one-user" })));
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    const read = await call(replicas[1], "Read", { id: invite.id });
    expect(read.json.invite.use_count).toBe(1);
  });
});

/** A TCP hop to PostgreSQL that a test can take down and bring back on the same port. */
async function startOutageProxy(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const up = (port: number) =>
    new Promise<number>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", () => resolve((server!.address() as { port: number }).port));
    });
  const port = await up(0);
  return {
    port,
    down: () =>
      new Promise<void>((resolve) => {
        server!.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    up: () => up(port),
  };
}

describe("a database outage", () => {
  test("calls fail fast with Unavailable, health says NOT_SERVING, and service resumes without a restart", async () => {
    const database = await createPostgresDatabase();
    const proxy = await startOutageProxy(new URL(postgresAdminUrl));
    const url = new URL(database.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const server = await startServerProcess({
      DATABASE_URL: url.toString(),
      DATABASE_CONNECT_TIMEOUT_MS: "1000",
      DATABASE_STATEMENT_TIMEOUT_MS: "1000",
    });
    const health = () => postJson(`${server.url}/grpc.health.v1.Health/Check`, {});
    await expect(call(server, "Create", { group_id: "g", email: "before@example.com" })).resolves.toMatchObject({ status: 200 });
    await expect(health()).resolves.toMatchObject({ json: { status: "SERVING" } });

    await proxy.down();
    const started = Date.now();
    const during = await call(server, "List", {});
    // Not a speed measurement: the call must not hang until the client gives up.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(during).toMatchObject({ status: 503, json: { code: "unavailable", message: "the database is unavailable; retry later" } });
    expect(during.json.details[0].debug.reason).toBe("DATABASE_UNAVAILABLE");
    await expect(health()).resolves.toMatchObject({ json: { status: "NOT_SERVING" } });

    await proxy.up();
    let after = await call(server, "List", {});
    for (let tries = 0; after.status !== 200 && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await call(server, "List", {});
    }
    expect(after).toMatchObject({ status: 200, json: { invites: [{ email: "before@example.com" }] } });
    await expect(health()).resolves.toMatchObject({ json: { status: "SERVING" } });

    await server.stop();
    await proxy.down();
    await database.remove();
  });
});

describe("the migrate command", () => {
  test("brings a new database up to date alone, so replicas can start with MIGRATE_ON_START=false", async () => {
    const database = await createPostgresDatabase();
    const env = { PATH: process.env.PATH ?? "", DATABASE_URL: database.url };
    const cli = join(__dirname, "../../dist/src/cli.js");
    const { stderr } = await promisify(execFile)(process.execPath, [cli, "migrate"], { env });
    expect(stderr).toBe("invites: the database schema is up to date\n");
    const server = await startServerProcess({ DATABASE_URL: database.url, MIGRATE_ON_START: "false" });
    await expect(call(server, "Create", { group_id: "g", email: "a@example.com" })).resolves.toMatchObject({ status: 200 });
    await server.stop();
    await database.remove();
  });

  test("a replica that cannot reach the database exits with one line, even without migrating", async () => {
    const { code, stderr } = await runCli(["serve"], {
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", MIGRATE_ON_START: "false", DATABASE_CONNECT_TIMEOUT_MS: "500",
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^invites: postgres: .*ECONNREFUSED.*\n$/);
  });

  test("says in one line when the database cannot be reached", async () => {
    const cli = join(__dirname, "../../dist/src/cli.js");
    const env = { PATH: process.env.PATH ?? "", DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", DATABASE_CONNECT_TIMEOUT_MS: "500" };
    const result = await promisify(execFile)(process.execPath, [cli, "migrate"], { env }).catch((err: { code: number; stderr: string }) => err);
    expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(/^invites: migration failed: postgres: .*ECONNREFUSED.*\n$/) });
  });
});
