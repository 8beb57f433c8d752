import * as net from "node:net";
import { postJson } from "../support/http.js";
import { connectPost, openRawHttp1 } from "../support/raw-http1.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// HTTP/1.1 connections as clients other than fetch use them: pipelined,
// split, chunked, malformed, idle. The lean path reads Connect calls itself
// and hands anything else to Node's server mid-connection; every answer here
// must be the one Node's server alone gives (the connect-node project runs
// this file with the lean path off).

let server: TestServer;
const keepAliveMs = 400;
const allowedOrigin = "https://app.example.com";
beforeAll(async () => (server = await startTestServer({ keepAliveTimeoutMs: keepAliveMs, corsOrigins: [allowedOrigin] })));
afterAll(() => server.close());

const read = "/invites.v1.InvitesService/Read";
const create = "/invites.v1.InvitesService/Create";

async function createInvite(email: string): Promise<{ id: string; code: string }> {
  const res = await postJson(`${server.url}${create}`, { group_id: "raw", email });
  expect(res.status).toBe(200);
  return res.json.invite;
}

async function countInvites(): Promise<number> {
  const res = await postJson(`${server.url}/invites.v1.InvitesService/List`, { page_size: 1000 });
  return (res.json.invites ?? []).length;
}

test("two calls written at once are answered in order on one connection, with Node's fields", async () => {
  const [a, b] = [await createInvite("pipe-a@example.com"), await createInvite("pipe-b@example.com")];
  const conn = await openRawHttp1(server.url);
  await conn.write(connectPost(read, { code: a.code }, { "x-request-id": "first" }) + connectPost(read, { code: b.code }));
  const first = await conn.next();
  const second = await conn.next();
  expect(first).toMatchObject({ status: 200, headers: { "x-request-id": "first", connection: "keep-alive", "content-type": "application/json" } });
  expect(JSON.parse(first!.body).invite.id).toBe(a.id);
  expect(first!.headers["content-length"]).toBe(String(Buffer.byteLength(first!.body)));
  expect(Date.parse(first!.headers.date)).toBeGreaterThan(Date.now() - 60_000);
  expect(JSON.parse(second!.body).invite.id).toBe(b.id);
  expect(second!.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  conn.close();
});

test("a request split across writes, then a GET and a call, all on one connection", async () => {
  const invite = await createInvite("split@example.com");
  const conn = await openRawHttp1(server.url);
  const request = connectPost(read, { code: invite.code });
  const cut = request.indexOf("\r\n\r\n") + 6;
  await conn.write(request.slice(0, cut));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await conn.write(request.slice(cut));
  expect(JSON.parse((await conn.next())!.body).invite.id).toBe(invite.id);
  await conn.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
  await expect(conn.next()).resolves.toMatchObject({ status: 200, body: "ok\n" });
  await conn.write(connectPost(read, { code: invite.code }));
  expect(JSON.parse((await conn.next())!.body).invite.id).toBe(invite.id);
  conn.close();
});

test.each([
  ["a first read of one byte, which may start HTTP/2's preface", (request: string) => [request.slice(0, 1), request.slice(1)]],
  ["pieces slower than the keep-alive timeout in all", (request: string) => request.match(/[^]{1,60}/g)!],
])("a call written in pieces is answered: %s", async (_, cut) => {
  const invite = await createInvite(`pieces-${cut.length}@example.com`);
  const conn = await openRawHttp1(server.url);
  for (const piece of cut(connectPost(read, { code: invite.code }))) {
    await conn.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  expect(JSON.parse((await conn.next())!.body).invite.id).toBe(invite.id);
  conn.close();
});

test("an HTTP/2 connection whose preface arrives in pieces gets the server's settings", async () => {
  const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  const frames = new Promise<Buffer>((resolve) => socket.once("data", resolve));
  socket.write("PR");
  await new Promise((resolve) => setTimeout(resolve, 50));
  // The rest of the preface, then an empty SETTINGS frame.
  socket.write(Buffer.concat([Buffer.from("I * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
  // A frame's type is its fourth byte; SETTINGS is 4.
  expect((await frames)[3]).toBe(4);
  socket.destroy();
});

test("a preflight, then calls from the allowed origin and another, on one connection", async () => {
  const invite = await createInvite("cors@example.com");
  const conn = await openRawHttp1(server.url);
  await conn.write(`OPTIONS ${read} HTTP/1.1\r\nhost: localhost\r\norigin: ${allowedOrigin}\r\naccess-control-request-method: POST\r\naccess-control-request-headers: content-type\r\n\r\n`);
  const preflight = await conn.next();
  expect(preflight).toMatchObject({ status: 204, headers: { "access-control-allow-origin": allowedOrigin, vary: "Origin" } });
  expect(preflight!.headers["access-control-allow-headers"]).toMatch(/Content-Type/);
  expect(preflight!.headers["x-request-id"]).toBeUndefined();
  await conn.write(connectPost(read, { code: invite.code }, { origin: allowedOrigin }) + connectPost(read, { code: invite.code }, { origin: "https://evil.example.com" }));
  const allowed = await conn.next();
  expect(allowed).toMatchObject({ status: 200, headers: { "access-control-allow-origin": allowedOrigin, "access-control-expose-headers": expect.stringMatching(/X-Request-Id/) } });
  expect(JSON.parse(allowed!.body).invite.id).toBe(invite.id);
  const other = await conn.next();
  expect(other!.status).toBe(200);
  expect(other!.headers["access-control-allow-origin"]).toBeUndefined();
  conn.close();
});

test("a call after a GET written in the same write is answered after it", async () => {
  const invite = await createInvite("after-get@example.com");
  const conn = await openRawHttp1(server.url);
  await conn.write(connectPost(read, { code: invite.code }) + "GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n" + connectPost(read, { code: invite.code }));
  expect(JSON.parse((await conn.next())!.body).invite.id).toBe(invite.id);
  await expect(conn.next()).resolves.toMatchObject({ status: 200, body: "ok\n" });
  expect(JSON.parse((await conn.next())!.body).invite.id).toBe(invite.id);
  conn.close();
});

test("a chunked call is served", async () => {
  const invite = await createInvite("chunked@example.com");
  const conn = await openRawHttp1(server.url);
  const body = JSON.stringify({ code: invite.code });
  await conn.write(`POST ${read} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
  const res = await conn.next();
  expect(res!.status).toBe(200);
  expect(JSON.parse(res!.body).invite.id).toBe(invite.id);
  conn.close();
});

test.each([
  ["Content-Length beside Transfer-Encoding", (body: string) => `content-length: ${body.length}\r\ntransfer-encoding: chunked\r\n`],
  ["two Content-Lengths", (body: string) => `content-length: ${body.length}\r\ncontent-length: ${body.length}\r\n`],
  ["a folded field", (body: string) => `content-length: ${body.length}\r\nx-note: a\r\n b\r\n`],
  ["a control character in a field", (body: string) => `content-length: ${body.length}\r\nx-note: a\x01b\r\n`],
  ["a space before the colon", (body: string) => `content-length : ${body.length}\r\n`],
])("%s: 400, the connection closed, nothing stored", async (_, fields) => {
  const before = await countInvites();
  const conn = await openRawHttp1(server.url);
  const body = JSON.stringify({ group_id: "raw", email: "smuggled@example.com" });
  await conn.write(`POST ${create} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n${fields(body)}\r\n${body}`);
  await expect(conn.next()).resolves.toMatchObject({ status: 400 });
  await conn.closed;
  expect(await countInvites()).toBe(before);
});

test("a head over Node's 16 KiB limit is refused with 431", async () => {
  const conn = await openRawHttp1(server.url);
  await conn.write(connectPost(read, { code: "x" }, { "x-pad": "a".repeat(20_000) }));
  await expect(conn.next()).resolves.toMatchObject({ status: 431 });
  conn.close();
});

test.each([
  ["Connection: close", (request: string) => request.replace("content-type:", "connection: close\r\ncontent-type:")],
  ["HTTP/1.0", (request: string) => request.replace("HTTP/1.1", "HTTP/1.0")],
])("%s is answered, then the connection closes", async (_, shape) => {
  const invite = await createInvite("close@example.com");
  const conn = await openRawHttp1(server.url);
  await conn.write(shape(connectPost(read, { code: invite.code })));
  const res = await conn.next();
  const answered = Date.now();
  expect(res).toMatchObject({ status: 200, headers: { connection: "close" } });
  expect(JSON.parse(res!.body).invite.id).toBe(invite.id);
  // Right after the answer, before the keep-alive timeout would close it.
  expect((await conn.closed) - answered).toBeLessThan(keepAliveMs - 100);
});

test("an HTTP/1.0 call asking for keep-alive keeps its connection", async () => {
  const invite = await createInvite("http10-keep@example.com");
  const conn = await openRawHttp1(server.url);
  const request = connectPost(read, { code: invite.code }, { connection: "keep-alive" }).replace("HTTP/1.1", "HTTP/1.0");
  await conn.write(request);
  await expect(conn.next()).resolves.toMatchObject({ status: 200, headers: { connection: "keep-alive" } });
  await conn.write(request);
  expect(JSON.parse((await conn.next())!.body).invite.id).toBe(invite.id);
  conn.close();
});

test("an oversized declared body is ResourceExhausted", async () => {
  const conn = await openRawHttp1(server.url);
  await conn.write(`POST ${create} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${70 * 1024}\r\n\r\n{}`);
  const res = await conn.next();
  expect(res!.status).toBe(429);
  expect(JSON.parse(res!.body)).toMatchObject({ code: "resource_exhausted" });
  conn.close();
});

test.each([
  ["after a call", [connectPost(read, { code: "" })]],
  ["after a GET", ["GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n"]],
])("an idle connection closes after the keep-alive timeout, %s", async (_, requests) => {
  const conn = await openRawHttp1(server.url);
  for (const request of requests) {
    await conn.write(request);
    const res = await conn.next();
    expect(res!.headers["keep-alive"]).toBe("timeout=0");
  }
  const answered = Date.now();
  const closedAt = await conn.closed;
  expect(closedAt - answered).toBeGreaterThanOrEqual(keepAliveMs - 50);
  expect(closedAt - answered).toBeLessThan(keepAliveMs + 1500);
});

test("a connection that never sends a byte closes after the keep-alive timeout", async () => {
  const opened = Date.now();
  const conn = await openRawHttp1(server.url);
  const closedAt = await conn.closed;
  expect(closedAt - opened).toBeGreaterThanOrEqual(keepAliveMs - 50);
  expect(closedAt - opened).toBeLessThan(keepAliveMs + 1500);
});
