import { connect, createServer } from "node:net";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ReadRequestSchema, ReadResponseSchema } from "../../gen/invites/v1/invites_pb.js";
import { postJson } from "../support/http.js";
import { killLeftoverServers, runCli, startServerProcess, type ServerProcess } from "../support/server-process.js";
import { makeTempDir } from "../support/temp-dir.js";

let dir: ReturnType<typeof makeTempDir>;
beforeEach(() => (dir = makeTempDir()));
afterEach(() => {
  killLeftoverServers();
  dir.remove();
});

describe("two server processes on one SQLite file", () => {
  let a: ServerProcess;
  let b: ServerProcess;
  beforeEach(async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir.path, "shared.db")}` };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  afterEach(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  test("both serve the same invites", async () => {
    const created = await postJson(`${a.url}/v1/invites/Create`, { group_id: "g", email: "both@example.com" });
    expect(created.status).toBe(200);
    await expect(postJson(`${b.url}/v1/invites/Read`, { code: created.json.invite.code })).resolves.toMatchObject({
      status: 200,
      json: created.json,
    });
  });

  test("concurrent creates for one email and group, spread over both, make one invite", async () => {
    const calls = Array.from({ length: 40 }, (_, i) =>
      postJson(`${(i % 2 ? a : b).url}/v1/invites/Create`, { group_id: "race", email: "Race@Example.com" }),
    );
    const results = await Promise.all(calls);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.json.invite.id)).size).toBe(1);
    const listed = await postJson(`${a.url}/v1/invites/List`, { group_id: "race" });
    expect(listed.json.invites).toHaveLength(1);
  });

  const connect = (server: ServerProcess, method: string, body: unknown) => postJson(`${server.url}/invites.v1.InvitesService/${method}`, body);

  test("50 concurrent accepts of a single-use invite, spread over both: exactly one succeeds", async () => {
    const invite = (await connect(a, "Create", { group_id: "g", open_link: true })).json.invite;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => connect(i % 2 ? a : b, "Accept", { code: invite.code, user_id: `racer-${i}` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refusals = results.filter((r) => r.status !== 200).map((r) => [r.status, r.json.details[0].debug.reason]);
    expect(refusals).toEqual(Array(49).fill([400, "INVITE_USED_UP"]));
  });

  test("50 distinct users racing for a ten-use invite over both: exactly ten succeed", async () => {
    const invite = (await connect(b, "Create", { group_id: "g", max_uses: 10 })).json.invite;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => connect(i % 2 ? a : b, "Accept", { code: invite.code, user_id: `racer-${i}` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    const read = await connect(a, "Read", { id: invite.id });
    expect(read.json.invite).toMatchObject({ use_count: 10, state: "INVITE_STATE_ACCEPTED" });
    const acceptances = await connect(b, "ListAcceptances", { id: invite.id });
    expect(acceptances.json.acceptances).toHaveLength(10);
  });
});

describe("start-up and shutdown", () => {
  test("SIGTERM lets the server finish and exit 0", async () => {
    const server = await startServerProcess({ DATABASE_URL: join(dir.path, "term.db") });
    await postJson(`${server.url}/v1/invites/Create`, { group_id: "g", email: "a@example.com" });
    await expect(server.stop("SIGTERM")).resolves.toBe(0);
    const lines = server.logs().trim().split("\n").map((line) => JSON.parse(line));
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", msg: "shutting down", signal: "SIGTERM" }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: "request", procedure: "invites.v1.InvitesService/Create", protocol: "m3o" }));
  });

  test("a log reader that goes away does not stop the service", async () => {
    const server = await startServerProcess({ DATABASE_URL: join(dir.path, "epipe.db") });
    server.child.stderr!.destroy();
    // Enough request lines to hit the closed pipe many times over.
    for (let n = 0; n < 50; n++) {
      const created = await postJson(`${server.url}/v1/invites/Create`, { group_id: "g", email: `u${n}@example.com` });
      expect(created.status).toBe(200);
    }
    expect(server.child.exitCode).toBeNull();
    await expect(server.stop("SIGTERM")).resolves.toBe(0);
  });

  test("a client resetting its connection before its first byte does not stop the service", async () => {
    const server = await startServerProcess({ DATABASE_URL: join(dir.path, "reset.db") });
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    // Long enough for the server to have taken the connection and be reading it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.child.exitCode).toBeNull();
    await expect(fetch(`${server.url}/healthz`).then((res) => res.status)).resolves.toBe(200);
    await expect(server.stop("SIGTERM")).resolves.toBe(0);
  });

  test("a process that refuses to compile code from text still answers, in JSON and binary", async () => {
    // The encoders compile a function per message type unless the process forbids it.
    const server = await startServerProcess({ DATABASE_URL: join(dir.path, "hardened.db"), NODE_OPTIONS: "--disallow-code-generation-from-strings" });
    const created = await postJson(`${server.url}/invites.v1.InvitesService/Create`, { group_id: "g", email: "a@example.com" });
    expect(created.status).toBe(200);
    expect(created.json.invite).toMatchObject({ group_id: "g", email: "a@example.com", state: "INVITE_STATE_PENDING" });
    const read = await fetch(`${server.url}/invites.v1.InvitesService/Read`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: toBinary(ReadRequestSchema, create(ReadRequestSchema, { id: created.json.invite.id })),
    });
    expect(read.status).toBe(200);
    const answer = fromBinary(ReadResponseSchema, new Uint8Array(await read.arrayBuffer()));
    expect(answer.invite).toMatchObject({ id: created.json.invite.id, code: created.json.invite.code, email: "a@example.com" });
    await expect(server.stop()).resolves.toBe(0);
  });

  test("SIGINT does the same", async () => {
    const server = await startServerProcess({ DATABASE_URL: join(dir.path, "int.db") });
    await expect(server.stop("SIGINT")).resolves.toBe(0);
  });

  test("without API keys it says so and listens on loopback only", async () => {
    const server = await startServerProcess({ DATABASE_URL: join(dir.path, "open.db") });
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
    expect(server.logs()).toMatch(/no API keys configured/);
    await server.stop();
  });

  test.each([
    [{ PORT: "http" }, /^invites: PORT=http: must be a whole number from 0 to 65535\n$/],
    [{ HOST: "0.0.0.0" }, /^invites: HOST=0\.0\.0\.0: without API keys the server only listens on loopback/],
    [{ INVITES_API_KEYS: "short:ns" }, /^invites: INVITES_API_KEYS: entry 1 has a key shorter than 16 characters\n$/],
    [{ INVITES_API_KEYS_FILE: "/nonexistent/keys" }, /^invites: INVITES_API_KEYS_FILE=\/nonexistent\/keys: ENOENT\n$/],
    [{ DATABASE_URL: "mysql://db/invites" }, /^invites: DATABASE_URL: unsupported scheme/],
  ])("a bad setting %j is one line and a non-zero exit", async (env, message) => {
    const { code, stderr } = await runCli(["serve"], { DATABASE_URL: join(dir.path, "x.db"), ...env });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
  });

  test("a port in use is one line and a non-zero exit", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    const { code, stderr } = await runCli(["serve"], { PORT: String(port), DATABASE_URL: join(dir.path, "x.db") });
    blocker.close();
    expect(code).toBe(1);
    expect(stderr).toBe("invites: the port is already in use\n");
  });
});
