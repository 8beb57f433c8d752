import { existsSync } from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import { join } from "node:path";
import Database from "better-sqlite3";
import { settings } from "../../src/settings.js";
import { sqliteMigrations } from "../../src/store/sqlite/migrations.js";
import { killLeftoverServers, runCli, startServerProcess } from "../support/server-process.js";
import { makeTempDir } from "../support/temp-dir.js";

let dir: ReturnType<typeof makeTempDir>;
beforeEach(() => (dir = makeTempDir()));
afterEach(() => {
  killLeftoverServers();
  dir.remove();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const createBody = (email: string) => JSON.stringify({ group_id: "g", email });

/** A Connect call over HTTP/1.1 whose body arrives in two parts, the second when `finish` is called. */
function slowHttp1Call(url: string, body: string) {
  const req = http.request(`${url}/invites.v1.InvitesService/Create`, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
  });
  req.write(body.slice(0, 10));
  return { finish: () => req.end(body.slice(10)), response };
}

/** The same over HTTP/2 (h2c). */
function slowHttp2Call(url: string, body: string) {
  const session = http2.connect(url);
  const stream = session.request({ ":method": "POST", ":path": "/invites.v1.InvitesService/Create", "content-type": "application/json" });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    let status = 0;
    let text = "";
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.on("data", (chunk) => (text += chunk));
    stream.on("end", () => {
      session.close();
      resolve({ status, body: text });
    });
    stream.on("error", reject);
  });
  stream.write(body.slice(0, 10));
  return { finish: () => stream.end(body.slice(10)), response };
}

/** GET on a new connection; the error code if it cannot connect. */
function getOnNewConnection(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
  });
}

test("SIGTERM: readiness goes NOT_SERVING first, then new connections are refused, in-flight calls finish, exit 0", async () => {
  const server = await startServerProcess({ DATABASE_URL: join(dir.path, "drain.db"), SHUTDOWN_DELAY_MS: "800", SHUTDOWN_GRACE_MS: "5000" });
  await expect(getOnNewConnection(`${server.url}/readyz`)).resolves.toBe(200);
  const h1 = slowHttp1Call(server.url, createBody("h1@example.com"));
  const h2 = slowHttp2Call(server.url, createBody("h2@example.com"));
  await pause(200);

  const exited = server.stop("SIGTERM");
  await pause(200);
  await expect(getOnNewConnection(`${server.url}/readyz`)).resolves.toBe(503);
  await pause(1000);
  await expect(getOnNewConnection(`${server.url}/healthz`)).resolves.toBe("ECONNREFUSED");

  h1.finish();
  h2.finish();
  const [r1, r2] = await Promise.all([h1.response, h2.response]);
  expect(r1.status).toBe(200);
  expect(JSON.parse(r1.body).invite.email).toBe("h1@example.com");
  expect(r2.status).toBe(200);
  expect(JSON.parse(r2.body).invite.email).toBe("h2@example.com");
  await expect(exited).resolves.toBe(0);
});

test("a call still running when the grace period ends is cut, and the process still exits 0", async () => {
  const server = await startServerProcess({ DATABASE_URL: join(dir.path, "grace.db"), SHUTDOWN_GRACE_MS: "300" });
  const stuck = slowHttp1Call(server.url, createBody("stuck@example.com"));
  const outcome = stuck.response.then(
    () => "answered",
    (err: NodeJS.ErrnoException) => err.code,
  );
  await pause(100);
  const started = Date.now();
  await expect(server.stop("SIGTERM")).resolves.toBe(0);
  // Not a speed measurement: the process must not wait for the stuck call.
  expect(Date.now() - started).toBeLessThan(5000);
  await expect(outcome).resolves.toBe("ECONNRESET");
});

describe("the invites command", () => {
  test("--help names every setting's flag and variable", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    for (const setting of settings) expect(stdout).toContain(`--${setting.flag}`), expect(stdout).toContain(setting.env);
    expect(stdout).toMatch(/serve .*\n.*migrate .*\n.*version/);
  });

  test("version prints the package version", async () => {
    await expect(runCli(["version"])).resolves.toMatchObject({ code: 0, stdout: expect.stringMatching(/^invites \d+\.\d+\.\d+\n$/) });
  });

  test("flags override the environment", async () => {
    // The environment alone could not start: PORT=http is refused.
    const server = await startServerProcess({ DATABASE_URL: join(dir.path, "env.db"), PORT: "http", LOG_LEVEL: "error" }, [
      "--database-url", join(dir.path, "flag.db"), "--port=0", "--log-level", "debug",
    ]);
    await expect(getOnNewConnection(`${server.url}/healthz`)).resolves.toBe(200);
    await expect(server.stop()).resolves.toBe(0);
    expect(existsSync(join(dir.path, "flag.db"))).toBe(true);
    expect(existsSync(join(dir.path, "env.db"))).toBe(false);
    expect(server.logs()).toContain('"level":"debug"');
  });

  test("migrate prepares an SQLite file and exits", async () => {
    const { code, stderr } = await runCli(["migrate", "--database-url", join(dir.path, "m.db")]);
    expect([code, stderr]).toEqual([0, "invites: the database schema is up to date\n"]);
  });

  test("serve and migrate refuse an SQLite file from a newer build in one line, and leave it as it was", async () => {
    const filename = join(dir.path, "newer.db");
    const newer = new Database(filename);
    newer.pragma("user_version = 99");
    newer.close();
    for (const command of ["serve", "migrate"]) {
      const { code, stderr } = await runCli([command, "--database-url", filename]);
      const refusal = `DATABASE_URL=${filename}: the database's schema is version 99, newer than this build's ${sqliteMigrations.length}; run a build that knows version 99\n`;
      expect([code, stderr]).toEqual([1, `invites: ${command === "migrate" ? "migration failed: " : ""}${refusal}`]);
    }
    const after = new Database(filename, { readonly: true });
    expect([after.pragma("user_version", { simple: true }), after.prepare("SELECT count(*) FROM sqlite_schema").pluck().get()]).toEqual([99, 0]);
    after.close();
  });

  test.each([
    [["serve", "--bogus"], 2, "invites: unknown option --bogus (see invites --help)\n"],
    [["serve", "--port", "99999"], 2, "invites: PORT=99999: must be a whole number from 0 to 65535\n"],
    [["serve", "--log-level", "loud"], 2, "invites: LOG_LEVEL=loud: must be one of debug, info, warn, error, silent\n"],
    [["serve", "--database-url", "/dev/null/invites.db"], 1, "invites: DATABASE_URL=/dev/null/invites.db: cannot create or open the SQLite database (EEXIST)\n"],
    [["frobnicate"], 2, 'invites: unknown command "frobnicate" (see invites --help)\n'],
    [[], 2, "invites: a command is needed: serve, migrate or version (see invites --help)\n"],
  ])("%j is one line and exit %i", async (args, exitCode, message) => {
    const { code, stderr } = await runCli(args, { DATABASE_URL: join(dir.path, "x.db") });
    expect([code, stderr]).toEqual([exitCode, message]);
  });

  test("a malformed key file is one line naming the file and entry", async () => {
    const file = join(dir.path, "keys");
    require("node:fs").writeFileSync(file, "# keys\ngood-key-0123456789abc:acme\nbroken\n");
    const { code, stderr } = await runCli(["serve", "--api-keys-file", file], { DATABASE_URL: join(dir.path, "x.db") });
    expect([code, stderr]).toEqual([2, `invites: INVITES_API_KEYS_FILE=${file}: entry 3 is not KEY:NAMESPACE\n`]);
  });
});
