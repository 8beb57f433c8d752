import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { InvitesService, InviteSchema, type ReadRequest } from "../../gen/invites/v1/invites_pb.js";
import { createCorsPolicy } from "../../src/http/cors.js";
import { createLeanHttp1 } from "../../src/http/lean-http1.js";
import { createLeanUnary } from "../../src/http/lean-unary.js";
import { createM3oLean, type M3oLean } from "../../src/http/m3o.js";
import type { NodeResponse } from "../../src/http/node-types.js";
import { createOnePortServer, type OnePortServer, type TlsFiles } from "../../src/http/one-port-server.js";
import { createLogger } from "../../src/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { createRequestObserver } from "../../src/observability/request-observer.js";
import { connectPost, openRawHttp1 } from "../support/raw-http1.js";
import { makeTempDir } from "../support/temp-dir.js";

// The lean HTTP/1.1 reader on its own, in front of a Node handler that
// answers "node", so each test can tell which of the two served a request,
// and with a Read handler a test can hold, to act while a call is in flight.

const read = "/invites.v1.InvitesService/Read";
const lines: string[] = [];
const logs = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
let held: Map<string, { ctx: HandlerContext; release: () => void }>;
let calls: number;
let arrived: (code: string) => void;
let server: OnePortServer;
let url: string;
// Set by the TLS tests, for the server each test starts.
let tlsFiles: TlsFiles | undefined;
// Shortened by the tests of requests that arrive slowly.
let keepAliveMs = 5000;
const allowedOrigin = "https://app.example.com";

beforeEach(async () => {
  lines.length = 0;
  held = new Map();
  calls = 0;
  arrived = () => undefined;
  const observer = createRequestObserver(createLogger("info", { write: (line) => lines.push(line) }), createMetrics());
  const implementation = {
    async read({ code }: ReadRequest, ctx: HandlerContext) {
      calls++;
      if (code.startsWith("big")) return { invite: create(InviteSchema, { code, email: "x".repeat(200_000) }) };
      if (code.startsWith("hold")) {
        await new Promise<void>((release) => {
          held.set(code, { ctx, release });
          arrived(code);
        });
      }
      return { invite: create(InviteSchema, { code }) };
    },
  };
  const lean = createLeanUnary({ service: InvitesService, implementation, interceptors: [], jsonOptions: {}, maxBodyBytes: 1024, observe: observer });
  const http1Reader = createLeanHttp1({ lean, m3o: createM3oLean(lean), observer, cors: createCorsPolicy([allowedOrigin]), keepAliveMs });
  const node = (_: unknown, res: NodeResponse) => res.writeHead(200, { "content-length": "4" }).end("node");
  server = createOnePortServer(node, { tls: tlsFiles, http2MaxStreams: 100, http1Reader, keepAliveMs });
  const address: AddressInfo = await server.listen(0, "127.0.0.1");
  url = `${tlsFiles ? "https" : "http"}://127.0.0.1:${address.port}`;
});
afterEach(() => server.close(0));

const arrival = (code: string) => new Promise<void>((resolve) => (arrived = (c) => c === code && resolve()));
/** A connection with a Read of `code` in flight, its handler holding it until released. */
async function callHeld(code: string, options: { halfOpen?: boolean } = {}) {
  const conn = await openRawHttp1(url, options);
  const arrived = arrival(code);
  await conn.write(connectPost(read, { code }));
  await arrived;
  return { conn, ...held.get(code)! };
}

const codeOf = (body: string | undefined) => (body === "node" ? "node" : JSON.parse(body!).invite.code);

test("serves whole calls itself, and at the first request it does not, hands the connection to Node for good", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(connectPost(read, { code: "one" }));
  expect(codeOf((await conn.next())?.body)).toBe("one");
  await conn.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
  expect((await conn.next())?.body).toBe("node");
  await conn.write(connectPost(read, { code: "two" }));
  expect(codeOf((await conn.next())?.body)).toBe("node");
  conn.close();
});

test.each([
  ["body", (request: string) => [request.slice(0, -3), request.slice(-3)]],
  ["head, byte by byte,", (request: string) => [...request.slice(0, 20), request.slice(20)]],
  ["head and body", (request: string) => [request.slice(0, 20), request.slice(20, -5), request.slice(-5)]],
])("serves a call whose %s arrived in pieces, and keeps the connection", async (_, cut) => {
  const conn = await openRawHttp1(url);
  for (const piece of cut(connectPost(read, { code: "pieces" }))) {
    await conn.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(codeOf((await conn.next())?.body)).toBe("pieces");
  await conn.write(connectPost(read, { code: "after" }));
  expect(codeOf((await conn.next())?.body)).toBe("after");
  conn.close();
});

test.each([
  ["another path", "/invites.v1.InvitesService/Nope", {}],
  ["an M3O path the lean path does not serve", "/v1/invites/Nope", {}],
  ["a compressed body", read, { "content-encoding": "gzip" }],
])("a call it does not serve goes to Node on its head, before its body has come: %s", async (_, path, fields) => {
  const conn = await openRawHttp1(url);
  const request = connectPost(path, { code: "x" }, fields);
  await conn.write(request.slice(0, request.indexOf("\r\n\r\n") + 4));
  const timeout = new Promise((resolve) => setTimeout(() => resolve("no answer within 1 s"), 1000));
  await expect(Promise.race([conn.next().then((answer) => answer?.body), timeout])).resolves.toBe("node");
  conn.close();
});

test("a head that comes in more than 32 reads goes to Node, whose parser does not read it again at each", async () => {
  const conn = await openRawHttp1(url);
  const request = connectPost(read, { code: "trickle" });
  for (const byte of request.slice(0, 100)) {
    await conn.write(byte);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  await conn.write(request.slice(100));
  expect((await conn.next())?.body).toBe("node");
  conn.close();
});

describe("with a short keep-alive timeout", () => {
  beforeAll(() => (keepAliveMs = 300));
  afterAll(() => (keepAliveMs = 5000));

  test("a call that has not arrived whole within it goes to Node with every byte, stalled or trickling", async () => {
    // Stalled: one gap longer than the timeout. Trickling: gaps a third of it, the whole request twice it
    // (133 bytes in 20-byte pieces: 600 ms), so that timers late under load cannot let it in under the timeout.
    for (const [gapMs, pieceBytes] of [
      [400, 40],
      [100, 20],
    ]) {
      const conn = await openRawHttp1(url);
      const request = connectPost(read, { code: "slow" });
      for (let at = 0; at < request.length; at += pieceBytes) {
        await conn.write(request.slice(at, at + pieceBytes));
        await new Promise((resolve) => setTimeout(resolve, gapMs));
      }
      expect((await conn.next())?.body).toBe("node");
      conn.close();
    }
    expect(calls).toBe(0);
  });

  test("a client slow to read answers more than the kernel's buffers hold keeps its connection past it, as with Node's server", async () => {
    const conn = await openRawHttp1(url, { paused: true });
    // 20 MB of answers: some wait in the server's own buffers.
    const requests = 100;
    await conn.write(Array.from({ length: requests }, (_, i) => connectPost(read, { code: `big-${i}` })).join(""));
    await new Promise((resolve) => setTimeout(resolve, 3 * keepAliveMs));
    conn.resume();
    for (let i = 0; i < requests; i++) expect(codeOf((await conn.next())?.body)).toBe(`big-${i}`);
    conn.close();
  });
});

test("serves a call from an allowed origin with the CORS fields, and one from another origin without them", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(connectPost(read, { code: "cors" }, { origin: allowedOrigin }) + connectPost("/v1/invites/Read", { code: "m3o" }, { origin: allowedOrigin }));
  for (const code of ["cors", "m3o"]) {
    const answer = await conn.next();
    expect(codeOf(answer?.body)).toBe(code);
    expect(answer?.headers).toMatchObject({ "access-control-allow-origin": allowedOrigin, vary: "Origin", "access-control-expose-headers": expect.stringContaining("X-Request-Id") });
  }
  await conn.write(connectPost(read, { code: "other" }, { origin: "https://evil.example.com" }));
  const other = await conn.next();
  expect(codeOf(other?.body)).toBe("other");
  expect(other?.headers["access-control-allow-origin"]).toBeUndefined();
  conn.close();
});

test("answers preflights itself, unlogged as Node's server leaves them, and serves the call after", async () => {
  const conn = await openRawHttp1(url);
  const preflight = (origin: string) => `OPTIONS ${read} HTTP/1.1\r\nhost: localhost\r\norigin: ${origin}\r\naccess-control-request-method: POST\r\n\r\n`;
  await conn.write(preflight(allowedOrigin) + preflight("https://evil.example.com"));
  const allowed = await conn.next();
  expect(allowed).toMatchObject({ status: 204, body: "", headers: { "access-control-allow-origin": allowedOrigin, "access-control-max-age": "7200" } });
  expect(allowed?.headers["access-control-allow-methods"]).toMatch(/POST/);
  expect(allowed?.headers["access-control-allow-headers"]).toMatch(/Authorization/);
  const refused = await conn.next();
  expect(refused).toMatchObject({ status: 403, body: "" });
  expect(refused?.headers["access-control-allow-origin"]).toBeUndefined();
  await conn.write(connectPost(read, { code: "after" }, { origin: allowedOrigin }));
  expect(codeOf((await conn.next())?.body)).toBe("after");
  conn.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(logs()).toEqual([expect.objectContaining({ procedure: read, code: "ok" })]);
});

test("serves an M3O path itself too, logged as M3O", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(connectPost("/v1/invites/Read", { code: "m3o" }));
  expect(codeOf((await conn.next())?.body)).toBe("m3o");
  conn.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(logs()).toEqual([expect.objectContaining({ protocol: "m3o", code: "ok" })]);
});

test("writes an answer given at once, before the call has returned, and reads on", async () => {
  // An M3O stand-in that answers synchronously: the calls here answer from a promise, which hides the order.
  const observer = createRequestObserver(createLogger("info", { write: (line) => lines.push(line) }), createMetrics());
  const lean = createLeanUnary({ service: InvitesService, implementation: {}, interceptors: [], jsonOptions: {}, maxBodyBytes: 1024, observe: observer });
  const m3o: M3oLean = { serves: () => true, serve: (_path, _headers, body, _record, _cancel, respond) => respond(200, { "content-length": String(body.length) }, body) };
  const http1Reader = createLeanHttp1({ lean, m3o, observer, cors: createCorsPolicy([]), keepAliveMs });
  const instant = createOnePortServer(() => undefined, { http2MaxStreams: 100, http1Reader, keepAliveMs });
  const address: AddressInfo = await instant.listen(0, "127.0.0.1");
  const conn = await openRawHttp1(`http://127.0.0.1:${address.port}`);
  const within1s = () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000));
  try {
    await conn.write(connectPost("/v1/invites/Read", { code: "first" }) + connectPost("/v1/invites/Read", { code: "second" }));
    expect((await Promise.race([conn.next(), within1s()]))?.body).toBe('{"code":"first"}');
    expect((await Promise.race([conn.next(), within1s()]))?.body).toBe('{"code":"second"}');
  } finally {
    conn.close();
    await instant.close(0);
  }
});

test.each([
  ["another path", connectPost("/invites.v1.InvitesService/Nope", {})],
  ["an M3O path the lean path does not serve", connectPost("/v1/invites/Nope", {})],
  ["an OPTIONS request that is not a preflight", `OPTIONS ${read} HTTP/1.1\r\nhost: localhost\r\norigin: ${allowedOrigin}\r\n\r\n`],
  ["a preflight with a body", `OPTIONS ${read} HTTP/1.1\r\nhost: localhost\r\naccess-control-request-method: POST\r\ncontent-length: 2\r\n\r\n{}`],
  ["a body larger than allowed", connectPost(read, { code: "x".repeat(2000) })],
  ["a compressed body", connectPost(read, { code: "x" }, { "content-encoding": "gzip" })],
  ["an Origin beyond ASCII, which Node's server echoes as latin1", connectPost(read, { code: "x" }, { origin: "https://caf\u00e9.example" })],
  ["Proxy-Connection, which Node takes for Connection", connectPost(read, { code: "x" }, { "proxy-connection": "close" })],
  ["a Connection with more than one option", connectPost(read, { code: "x" }, { connection: "close, te" })],
])("leaves %s to Node", async (_, request) => {
  const conn = await openRawHttp1(url);
  await conn.write(request);
  expect((await conn.next())?.body).toBe("node");
  conn.close();
});

/** A Connect GET as connect-web sends it with useHttpGet: the message in the query, no body. */
const connectGet = (query: string, fields = "") => `GET ${read}?${query} HTTP/1.1\r\nhost: localhost\r\n${fields}\r\n`;
const jsonQuery = (code: string) => `connect=v1&encoding=json&message=${encodeURIComponent(JSON.stringify({ code }))}`;

test("serves a Connect GET itself, in JSON or base64 proto, keeps the connection, and logs no query", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(connectGet(jsonQuery("secret-json")));
  const json = await conn.next();
  expect(json).toMatchObject({ status: 200, headers: { "content-type": "application/json" } });
  expect(codeOf(json?.body)).toBe("secret-json");
  // ReadRequest { code = "secret-proto" }, field 2, url-safe and unpadded as connect-web sends it.
  const proto = Buffer.concat([Buffer.from([0x12, 12]), Buffer.from("secret-proto")]).toString("base64url");
  await conn.write(connectGet(`encoding=proto&base64=1&message=${proto}`));
  const binary = await conn.next();
  expect(binary).toMatchObject({ status: 200, headers: { "content-type": "application/proto" } });
  expect(binary?.body).toContain("secret-proto");
  await conn.write(connectPost(read, { code: "after" }));
  expect(codeOf((await conn.next())?.body)).toBe("after");
  conn.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(logs()).toEqual(Array(3).fill(expect.objectContaining({ procedure: read, protocol: "connect", code: "ok" })));
  expect(lines.join("")).not.toContain("secret");
});

/** A gRPC-Web call as a browser's grpc-web client sends it over HTTP/1.1: one framed ReadRequest { code }. */
function grpcWebPost(code: string, fields = ""): string {
  const message = Buffer.concat([Buffer.from([0x12, code.length]), Buffer.from(code)]);
  const body = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]).toString("latin1");
  return `POST ${read} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n${fields}content-length: ${body.length}\r\n\r\n${body}`;
}

test("serves a gRPC-Web call itself, its status in the body's trailer frame, and keeps the connection", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(grpcWebPost("web"));
  const answer = await conn.next();
  expect(answer).toMatchObject({ status: 200, headers: { "content-type": "application/grpc-web+proto" } });
  const body = answer!.bytes;
  const length = body.readUInt32BE(1);
  expect([body[0], body.subarray(5, 5 + length).toString("latin1")]).toEqual([0, expect.stringContaining("web")]);
  expect([body[5 + length], body.subarray(10 + length).toString("latin1")]).toEqual([0x80, "grpc-status: 0\r\n"]);
  await conn.write(grpcWebPost("web-late", "grpc-timeout: 1m\r\n"));
  expect((await conn.next())?.body).toContain("web-late");
  await conn.write(connectPost(read, { code: "after" }));
  expect(codeOf((await conn.next())?.body)).toBe("after");
  conn.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(logs().map((line) => line.protocol)).toEqual(["grpc-web", "grpc-web", "connect"]);
});

test("answers a compressed gRPC-Web call on its head alone to Node", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(grpcWebPost("x", "grpc-encoding: gzip\r\n"));
  expect((await conn.next())?.body).toBe("node");
  conn.close();
});

test("answers a Connect GET whose base64 message is malformed with InvalidArgument itself", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(connectGet("encoding=proto&base64=1&message=%21%21"));
  const answer = await conn.next();
  expect(answer?.status).toBe(400);
  expect(JSON.parse(answer!.body)).toEqual({ code: "invalid_argument", message: expect.stringMatching(/^message: .*base64/) });
  await conn.write(connectGet(jsonQuery("after")));
  expect(codeOf((await conn.next())?.body)).toBe("after");
  conn.close();
  expect(calls).toBe(1);
});

test.each([
  ["a GET with a body", connectGet(jsonQuery("x"), "content-length: 2\r\n") + "{}"],
  ["a GET of a compressed message", connectGet(`${jsonQuery("x")}&compression=gzip`)],
  ["a GET of another encoding", connectGet("encoding=xml&message=x")],
  ["a GET with no query", `GET ${read} HTTP/1.1\r\nhost: localhost\r\n\r\n`],
  ["a GET whose query holds a '#'", connectGet(`${jsonQuery("x")}#frag`)],
  ["a GET of an M3O path, which M3O answers with 405", "GET /v1/invites/Read HTTP/1.1\r\nhost: localhost\r\n\r\n"],
])("leaves %s to Node", async (_, request) => {
  const conn = await openRawHttp1(url);
  await conn.write(request);
  expect((await conn.next())?.body).toBe("node");
  conn.close();
  expect(calls).toBe(0);
});

test.each([
  ["Connection: close", connectPost(read, { code: "last" }, { connection: "close" })],
  ["HTTP/1.0", connectPost(read, { code: "last" }).replace("HTTP/1.1", "HTTP/1.0")],
])("serves a call with %s itself, then closes the connection, reading nothing after it", async (_, request) => {
  const conn = await openRawHttp1(url);
  await conn.write(request + connectPost(read, { code: "unread" }));
  const answer = await conn.next();
  const answered = Date.now();
  expect(codeOf(answer?.body)).toBe("last");
  expect(answer?.headers.connection).toBe("close");
  // Right after the answer, well before the keep-alive timeout would close it.
  expect((await conn.closed) - answered).toBeLessThan(1000);
  expect(calls).toBe(1);
});

test("keeps an HTTP/1.0 connection that asks for keep-alive open", async () => {
  const conn = await openRawHttp1(url);
  const request = connectPost(read, { code: "one" }, { connection: "keep-alive" }).replace("HTTP/1.1", "HTTP/1.0");
  await conn.write(request);
  expect((await conn.next())?.headers.connection).toBe("keep-alive");
  await conn.write(request.replace('"one"', '"two"'));
  expect(codeOf((await conn.next())?.body)).toBe("two");
  conn.close();
});

test("leaves a request without Host to Node, which refuses it", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(connectPost(read, { code: "x" }).replace("host: localhost\r\n", ""));
  await expect(conn.next()).resolves.toMatchObject({ status: 400 });
  conn.close();
});

test("a call written while another is in flight is answered after it", async () => {
  const { conn, release } = await callHeld("hold-a");
  await conn.write(connectPost(read, { code: "b" }));
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(calls).toBe(1);
  release();
  expect(codeOf((await conn.next())?.body)).toBe("hold-a");
  expect(codeOf((await conn.next())?.body)).toBe("b");
  conn.close();
});

test("a client leaving mid-call aborts the call's signal, and the call is logged canceled", async () => {
  const { conn, ctx, release } = await callHeld("hold-gone");
  const aborted = new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
  conn.close();
  await aborted;
  release();
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(logs()).toEqual([expect.objectContaining({ procedure: read, code: "canceled" })]);
});

test("draining closes an idle connection at once, and a busy one after its answer, which says so", async () => {
  const idle = await openRawHttp1(url);
  await idle.write(connectPost(read, { code: "idle" }));
  await idle.next();
  // A client that does not close its side when the server closes its own.
  const { conn: busy, release } = await callHeld("hold-busy", { halfOpen: true });
  const closing = server.close(10_000);
  await idle.closed;
  release();
  await expect(busy.next()).resolves.toMatchObject({ headers: { connection: "close" } });
  const answered = Date.now();
  await closing;
  // Well before the grace period would cut it.
  expect(Date.now() - answered).toBeLessThan(1000);
  busy.close();
  expect(logs().map((line) => line.code)).toEqual(["ok", "ok"]);
});

test("a client that does not read its answers is not read either, and gets every answer once it reads", async () => {
  const conn = await openRawHttp1(url, { paused: true });
  const requests = 300;
  await conn.write(Array.from({ length: requests }, (_, i) => connectPost(read, { code: `big-${i}` })).join(""));
  // Until the server stops answering: the kernel's buffers hold some tens of 200-KB answers, not 60 MB.
  for (let seen = -1; seen !== calls; ) {
    seen = calls;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(calls).toBeLessThan(requests);
  conn.resume();
  for (let i = 0; i < requests; i++) expect(codeOf((await conn.next())?.body)).toBe(`big-${i}`);
  expect(calls).toBe(requests);
  conn.close();
});

test("draining closes a connection whose head is still arriving at once, as Node's server does", async () => {
  const conn = await openRawHttp1(url);
  await conn.write(connectPost(read, { code: "partial" }).slice(0, 30));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const closing = server.close(10_000);
  const started = Date.now();
  expect((await conn.closed) - started).toBeLessThan(1000);
  await closing;
});

test("a connection whose first call arrives while the server drains is answered, then closed", async () => {
  const conn = await openRawHttp1(url);
  const closing = server.close(10_000);
  await conn.write(connectPost(read, { code: "late" }));
  await expect(conn.next()).resolves.toMatchObject({ headers: { connection: "close" } });
  const answered = Date.now();
  expect((await conn.closed) - answered).toBeLessThan(1000);
  await closing;
});

describe("over TLS, with ALPN's http/1.1", () => {
  const dir = makeTempDir();
  beforeAll(() => {
    const [cert, key] = [join(dir.path, "cert.pem"), join(dir.path, "key.pem")];
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
    tlsFiles = { cert: readFileSync(cert), key: readFileSync(key) };
  });
  afterAll(() => {
    tlsFiles = undefined;
    dir.remove();
  });

  test("serves whole calls itself, and hands the connection to Node at the first request it does not", async () => {
    const conn = await openRawHttp1(url, { ca: tlsFiles!.cert });
    await conn.write(connectPost(read, { code: "one" }) + connectPost(read, { code: "two" }));
    expect(codeOf((await conn.next())?.body)).toBe("one");
    expect(codeOf((await conn.next())?.body)).toBe("two");
    await conn.write("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n");
    expect((await conn.next())?.body).toBe("node");
    await conn.write(connectPost(read, { code: "three" }));
    expect((await conn.next())?.body).toBe("node");
    conn.close();
  });
});
