import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { serverSettings } from "../support/http.js";
import { connectPost } from "../support/raw-http1.js";
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
  const { port } = new URL(server.url);
  const socket = tls.connect({ port: Number(port), host: "127.0.0.1", servername: "localhost", ca, ALPNProtocols: ["http/1.1"] });
  await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
  const answered = new Promise<number>((resolve) => socket.once("data", () => resolve(Date.now())));
  socket.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
  const idleFor = (await closed) - (await answered);
  expect(idleFor).toBeGreaterThanOrEqual(350);
  expect(idleFor).toBeLessThan(2000);
});

test("shutdown closes an idle HTTP/1.1 connection over TLS at once, not at the end of the grace period", async () => {
  const own = await startTestServer({ tls: { cert: ca, key: readFileSync(join(dir.path, "key.pem")) }, keepAliveTimeoutMs: 60_000, shutdownGraceMs: 5000 });
  const { port } = new URL(own.url);
  const socket = tls.connect({ port: Number(port), host: "127.0.0.1", servername: "localhost", ca, ALPNProtocols: ["http/1.1"] });
  await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
  const answered = new Promise((resolve) => socket.once("data", resolve));
  socket.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
  await answered;
  const started = Date.now();
  await own.close();
  expect(Date.now() - started).toBeLessThan(2000);
  socket.destroy();
});

test("over TLS, HTTP/1.1 calls and a GET after them are answered on one connection", async () => {
  const { invite } = await createClient(InvitesService, createConnectTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca } })).create({
    groupId: "tls",
    email: "tls-raw@example.com",
  });
  const { port } = new URL(server.url);
  const socket = tls.connect({ port: Number(port), host: "127.0.0.1", servername: "localhost", ca, ALPNProtocols: ["http/1.1"] });
  await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
  const read = connectPost("/invites.v1.InvitesService/Read", { code: invite!.code });
  socket.write(read + read + "GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
  for (let waited = 0; !received.includes("ok\n") && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(received.match(/HTTP\/1\.1 200 /g)).toHaveLength(3);
  expect(received.split(invite!.id)).toHaveLength(3);
  expect(received).toMatch(/ok\n/);
  socket.destroy();
});
