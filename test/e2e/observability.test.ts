import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { AcceptRequestSchema, InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { createLogger } from "../../src/logger.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { postJson } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const apiKey = "observability-key-0123456789";
const auth = { authorization: `Bearer ${apiKey}` };
const lines: string[] = [];
const logs = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

let server: TestServer;
beforeAll(async () => {
  // The most verbose level, so the test sees everything the service could ever log.
  const logger = createLogger("debug", { write: (line: string) => lines.push(line) });
  server = await startTestServer({ apiKeysText: `${apiKey}:acme` }, { logger });
});
afterAll(() => server.close());

const transports: [string, (baseUrl: string) => Transport][] = [
  ["connect", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" })],
  ["connect", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true })],
  ["connect", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true })],
  ["grpc-web", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2" })],
  ["grpc", (baseUrl) => createGrpcTransport({ baseUrl })],
  ["grpc-web", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
];

/** Every RPC once, successes and refusals; returns the codes it handled. */
async function driveEveryRpc(client: Client<typeof InvitesService>, tag: string): Promise<string[]> {
  const headers = auth;
  const codes: string[] = [];
  const swallow = (p: Promise<unknown>) => p.catch(() => undefined);
  const bound = (await client.create({ groupId: "obs", email: `${tag}@example.com`, inviter: "ops" }, { headers })).invite!;
  const link = (await client.create({ groupId: "obs", maxUses: 3 }, { headers })).invite!;
  codes.push(bound.code, link.code);
  await client.read({ code: bound.code }, { headers });
  await client.read({ id: bound.id, code: `${bound.code.slice(0, 4)}-${bound.code.slice(4).toLowerCase()}` }, { headers });
  await client.list({ groupId: "obs", pageSize: 1 }, { headers });
  await client.accept({ code: link.code, userId: "u1" }, { headers });
  await swallow(client.accept({ code: bound.code, userId: "u2", email: "wrong@example.com" }, { headers }));
  await client.listAcceptances({ id: link.id }, { headers });
  const renewed = (await client.renew({ id: bound.id, rotateCode: true }, { headers })).invite!;
  codes.push(renewed.code);
  await swallow(client.read({ code: bound.code }, { headers }));
  await client.revoke({ id: link.id }, { headers });
  await swallow(client.accept({ code: link.code, userId: "u3" }, { headers }));
  await client.delete({ id: renewed.id }, { headers });
  // Refused for its key, with a real code in it.
  await swallow(client.read({ code: renewed.code }, { headers: { authorization: "Bearer wrong-key-0123456789abc" } }));
  return codes;
}

test("no invite code or API key ever reaches the logs, whatever the protocol or outcome", async () => {
  const codes: string[] = [];
  for (const [name, makeTransport] of transports) {
    codes.push(...(await driveEveryRpc(createClient(InvitesService, makeTransport(server.url)), `${name}-${codes.length}`)));
  }
  const grpcJs = createGrpcJsClient(new URL(server.url).host);
  const viaGrpcJs = await grpcJs.create({ groupId: "obs", email: "grpcjs@example.com" }, auth);
  await grpcJs.accept({ code: viaGrpcJs.invite!.code, userId: "g", email: "grpcjs@example.com" }, auth);
  grpcJs.close();
  codes.push(viaGrpcJs.invite!.code);
  const m3o = await postJson(`${server.url}/v1/invites/Create`, { group_id: "obs", email: "m3o@example.com" }, auth);
  await postJson(`${server.url}/v1/invites/Read`, { code: m3o.json.invite.code }, auth);
  codes.push(m3o.json.invite.code);
  // Malformed requests that carry a code where it does not belong: decoding errors quote values.
  await postJson(`${server.url}/invites.v1.InvitesService/Accept`, { code: [m3o.json.invite.code], user_id: "x" }, auth);
  await postJson(`${server.url}/v1/invites/Accept`, { code: { secret: m3o.json.invite.code } }, auth);
  const binary = toBinary(AcceptRequestSchema, create(AcceptRequestSchema, { code: m3o.json.invite.code, userId: "u" }));
  const query = Buffer.from(binary).toString("base64url");
  await fetch(`${server.url}/invites.v1.InvitesService/Accept?connect=v1&encoding=proto&message=${query}`, { headers: auth });

  const output = lines.join("");
  expect(lines.length).toBeGreaterThan(60);
  expect(new Set(codes).size).toBe(codes.length);
  for (const code of codes) {
    for (const form of [code, code.toLowerCase(), `${code.slice(0, 4)}-${code.slice(4, 8)}`, Buffer.from(code).toString("base64")]) {
      expect(output).not.toContain(form);
    }
  }
  expect(output).not.toContain(query);
  expect(output).not.toContain(apiKey);
  expect(output).not.toContain("wrong-key-0123456789abc");
});

test("one JSON line per request, with method, protocol, code, duration, namespace and request id", async () => {
  lines.length = 0;
  const res = await postJson(`${server.url}/invites.v1.InvitesService/Read`, { id: "1b4e28ba-2fa1-41d2-883f-0016d3cca427" }, { ...auth, "x-request-id": "trace-42" });
  expect(res.status).toBe(404);
  expect(res.headers.get("x-request-id")).toBe("trace-42");
  const grpc = createClient(InvitesService, createGrpcTransport({ baseUrl: server.url }));
  await grpc.list({}, { headers: auth });
  const m3o = await postJson(`${server.url}/invites/Invites/Create`, { group_id: "g" }, auth);
  expect(m3o.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

  const requests = logs().filter((l) => l.msg === "request");
  expect(requests).toEqual([
    expect.objectContaining({ level: "info", request_id: "trace-42", procedure: "invites.v1.InvitesService/Read", protocol: "connect", code: "not_found", reason: "NOT_FOUND", http_status: 404, namespace: "acme", duration_ms: expect.any(Number) }),
    expect.objectContaining({ procedure: "invites.v1.InvitesService/List", protocol: "grpc", code: "ok", namespace: "acme" }),
    expect.objectContaining({ procedure: "invites.v1.InvitesService/Create", protocol: "m3o", code: "invalid_argument", reason: "MISSING_EMAIL", http_status: 400, request_id: m3o.headers.get("x-request-id") }),
  ]);
  expect(typeof requests[0].time).toBe("string");
});

test("every answer over HTTP/1.1 carries its request id once, whichever part of the server writes it", async () => {
  const created = await postJson(`${server.url}/invites.v1.InvitesService/Create`, { group_id: "ids", email: "ids@example.com" }, { ...auth, "x-request-id": "lean-ok" });
  const refused = await postJson(`${server.url}/invites.v1.InvitesService/Read`, {}, { ...auth, "x-request-id": "lean-refused" });
  // A content type the lean path leaves to connect-node.
  const viaConnect = await postJson(`${server.url}/invites.v1.InvitesService/List`, {}, { ...auth, "content-type": "application/json;charset=utf-8", "x-request-id": "connect-node" });
  const m3o = await postJson(`${server.url}/v1/invites/List`, {}, { ...auth, "x-request-id": "m3o" });
  const health = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "health" } });
  expect([created.status, refused.status, viaConnect.status, m3o.status, health.status]).toEqual([200, 400, 200, 200, 200]);
  expect([created, refused, viaConnect, m3o, health].map((res) => res.headers.get("x-request-id"))).toEqual(["lean-ok", "lean-refused", "connect-node", "m3o", "health"]);
});

test("every kind of M3O answer carries its request id once", async () => {
  const id = (name: string) => ({ ...auth, "x-request-id": name });
  const refused = await postJson(`${server.url}/v1/invites/Create`, { group_id: "ids" }, id("m3o-refused"));
  const notJson = await postJson(`${server.url}/v1/invites/Create`, "{not json", id("m3o-not-json"));
  const tooLarge = await postJson(`${server.url}/v1/invites/Create`, { pad: "x".repeat(70 * 1024) }, id("m3o-too-large"));
  const unknown = await postJson(`${server.url}/v1/invites/Frobnicate`, {}, id("m3o-unknown"));
  const get = await fetch(`${server.url}/v1/invites/List`, { headers: id("m3o-get") });
  expect([refused, notJson, tooLarge, unknown, get].map((res) => res.status)).toEqual([400, 400, 413, 404, 405]);
  expect([refused, notJson, tooLarge, unknown, get].map((res) => res.headers.get("x-request-id"))).toEqual(["m3o-refused", "m3o-not-json", "m3o-too-large", "m3o-unknown", "m3o-get"]);
  expect(get.headers.get("allow")).toBe("POST");
  expect(refused.headers.get("content-type")).toBe("application/json");
});

test("requests refused before any handler are logged too", async () => {
  lines.length = 0;
  await postJson(`${server.url}/invites.v1.InvitesService/Create`, "{not json", auth);
  await postJson(`${server.url}/v1/invites/Create`, "{not json", auth);
  const requests = logs().filter((l) => l.msg === "request");
  expect(requests).toEqual([
    expect.objectContaining({ level: "info", procedure: "/invites.v1.InvitesService/Create", protocol: "connect", code: "invalid_argument", http_status: 400 }),
    expect.objectContaining({ level: "info", procedure: "/v1/invites/Create", protocol: "m3o", code: "invalid_argument", http_status: 400 }),
  ]);
});

test("a gRPC or gRPC-Web call refused before any interceptor is logged with its code, not unknown", async () => {
  lines.length = 0;
  const session = http2.connect(server.url);
  const call = (fields: http2.OutgoingHttpHeaders, body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": "/invites.v1.InvitesService/Read", "content-type": "application/grpc", te: "trailers", ...auth, ...fields });
      stream.on("error", reject).on("close", resolve).resume();
      stream.end(body);
    });
  // A message that does not decode (ReadRequest's field 1 with its length missing), once on each path, and a malformed deadline.
  await call({}, Buffer.from([0, 0, 0, 0, 2, 0x0a, 0xff]));
  await call({ "grpc-encoding": "gzip" }, Buffer.concat([Buffer.from([1, 0, 0, 0, 22]), gzipSync(Buffer.from([0x0a, 0xff]))]));
  await call({ "grpc-timeout": "soon" }, Buffer.from([0, 0, 0, 0, 0]));
  session.close();
  // gRPC-Web carries its status in the body; compressed, the call takes connect-node's path in either project.
  const gzipped = gzipSync(Buffer.from([0x0a, 0xff]));
  const web = await fetch(`${server.url}/invites.v1.InvitesService/Read`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", "grpc-encoding": "gzip", ...auth },
    body: Buffer.concat([Buffer.from([1, 0, 0, 0, gzipped.length]), gzipped]),
  });
  await web.arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const requests = logs().filter((l) => l.msg === "request");
  expect(requests).toEqual([...Array(3).fill(expect.objectContaining({ protocol: "grpc", code: "invalid_argument" })), expect.objectContaining({ protocol: "grpc-web", code: "invalid_argument" })]);
});

describe("operator endpoints", () => {
  test("/healthz and /readyz", async () => {
    const live = await fetch(`${server.url}/healthz`);
    expect([live.status, await live.text()]).toEqual([200, "ok\n"]);
    const ready = await fetch(`${server.url}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, "ready\n"]);
  });

  test("/metrics: requests by procedure, protocol and code; latency; store latency; changes; process", async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const protocol of ["grpc", "grpc-web", "connect", "m3o"]) {
      expect(text).toMatch(new RegExp(`invites_requests_total\\{procedure="invites.v1.InvitesService/Create",protocol="${protocol}",code="ok"\\} \\d+`));
    }
    expect(text).toMatch(/invites_requests_total\{procedure="invites.v1.InvitesService\/Accept",protocol="connect",code="permission_denied"\} [1-9]/);
    expect(text).toMatch(/invites_request_duration_seconds_bucket\{le="0.005",procedure="invites.v1.InvitesService\/Read",protocol="grpc"\} [1-9]/);
    expect(text).toMatch(/invites_store_duration_seconds_count\{operation="acceptInvite",outcome="ok"\} [1-9]/);
    for (const change of ["created", "accepted", "revoked", "deleted"]) {
      expect(text).toMatch(new RegExp(`invites_changes_total\\{change="${change}"\\} [1-9]`));
    }
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
    expect(text).not.toContain(apiKey);
  });

  test("metric labels stay few: M3O paths the service never reached share one, routes keep one spelling", async () => {
    for (const name of ["Nope", "nopeAgain", "NOPEX"]) {
      expect((await fetch(`${server.url}/v1/invites/${name}`, { method: "POST", body: "{}" })).status).toBe(404);
    }
    const malformed = await fetch(`${server.url}/invites.v1.InvitesService/Create`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(malformed.status).toBe(400);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).not.toMatch(/procedure="[^"]*nope/i);
    expect(text).toMatch(/invites_requests_total\{procedure="m3o",protocol="m3o",code="unimplemented"\} [3-9]/);
    expect(text).not.toMatch(/procedure="\//);
  });
});
