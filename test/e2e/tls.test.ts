import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { serverSettings } from "../support/http.js";
import { connectPost, openRawHttp1 } from "../support/raw-http1.js";
import { makeTempDir } from "../support/temp-dir.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let ca: Buffer;
const dir = makeTempDir();

beforeAll(async () => {
  const cert = join(dir.path, "cert.pem");
  const key = join(dir.path, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
  ca = readFileSync(cert);
  server = await startTestServer({ tls: { cert: ca, key: readFileSync(key) }, http2MaxStreams: 150, keepAliveTimeoutMs: 400 });
});
afterAll(async () => {
  await server.close();
  dir.remove();
});

test.each([
  ["Connect over HTTP/1.1 (ALPN http/1.1)", () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca } })],
  ["Connect over h2 (ALPN h2)", () => createConnectTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca } })],
  ["gRPC over h2", () => createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca } })],
])("%s", async (_, transport) => {
  expect(server.url).toMatch(/^https:\/\//);
  const client = createClient(InvitesService, transport());
  const { invite } = await client.create({ groupId: "tls", email: "tls@example.com" });
  await expect(client.read({ code: invite!.code })).resolves.toMatchObject({ invite: { id: invite!.id } });
});

test("over TLS too, the server tells each HTTP/2 client how many calls it may have in flight", async () => {
  await expect(serverSettings(server.url, { ca })).resolves.toMatchObject({ maxConcurrentStreams: 150 });
});

test("an idle HTTP/1.1 connection over TLS closes after the keep-alive timeout", async () => {
  const conn = await openRawHttp1(server.url, { ca });
  await conn.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
  await conn.next();
  const answered = Date.now();
  const idleFor = (await conn.closed) - answered;
  expect(idleFor).toBeGreaterThanOrEqual(350);
  expect(idleFor).toBeLessThan(2000);
});

test("shutdown closes an idle HTTP/1.1 connection over TLS at once, not at the end of the grace period", async () => {
  const own = await startTestServer({ tls: { cert: ca, key: readFileSync(join(dir.path, "key.pem")) }, keepAliveTimeoutMs: 60_000, shutdownGraceMs: 5000 });
  const conn = await openRawHttp1(own.url, { ca });
  await conn.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
  await conn.next();
  const started = Date.now();
  await own.close();
  expect(Date.now() - started).toBeLessThan(2000);
  conn.close();
});

test("over TLS, HTTP/1.1 calls and a GET after them are answered on one connection", async () => {
  const { invite } = await createClient(InvitesService, createConnectTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca } })).create({
    groupId: "tls",
    email: "tls-raw@example.com",
  });
  const conn = await openRawHttp1(server.url, { ca });
  const read = connectPost("/invites.v1.InvitesService/Read", { code: invite!.code });
  await conn.write(read + read + "GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
  const answers = [await conn.next(), await conn.next(), await conn.next()];
  expect(answers.map((answer) => answer?.status)).toEqual([200, 200, 200]);
  expect(answers.slice(0, 2).map((answer) => JSON.parse(answer!.body).invite.id)).toEqual([invite!.id, invite!.id]);
  expect(answers[2]?.body).toBe("ok\n");
  conn.close();
});
