import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { createLogger } from "../../src/logger.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { InviteStore } from "../../src/store/store.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
// The same service on a store that takes its time, for deadlines.
let slowServer: TestServer;
const storeDelayMs = 600;
// The slow server's request lines, to see how calls a client gave up on ended.
const slowLines: { request_id?: string; code?: string; procedure?: string }[] = [];
beforeAll(async () => {
  server = await startTestServer();
  const store = openSqliteStore({ filename: ":memory:" });
  const listInvites: InviteStore["listInvites"] = async (query) => {
    await new Promise((resolve) => setTimeout(resolve, storeDelayMs));
    return store.listInvites(query);
  };
  const logger = createLogger("debug", { write: (line: string) => slowLines.push(JSON.parse(line)) });
  slowServer = await startTestServer({}, { store: { ...store, listInvites }, logger });
});
afterAll(async () => {
  await server.close();
  await slowServer.close();
});

const transports: [string, (url: string) => Transport][] = [
  ["Connect JSON over HTTP/1.1", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false })],
  ["Connect proto over HTTP/1.1", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true })],
  ["Connect JSON over h2c", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: false })],
  ["Connect GET over HTTP/1.1", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true })],
  ["Connect proto GET over h2c", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, useHttpGet: true })],
  ["gRPC over h2c", (baseUrl) => createGrpcTransport({ baseUrl })],
  // Compressed requests take connect-node's path; the answer must be the same.
  ["gRPC over h2c, gzip", (baseUrl) => createGrpcTransport({ baseUrl, sendCompression: compressionGzip, compressMinBytes: 1 })],
  ["Connect proto over h2c, gzip", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, sendCompression: compressionGzip, compressMinBytes: 1 })],
  ["gRPC-Web over HTTP/1.1", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
  ["gRPC-Web over h2c", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2" })],
];

describe.each(transports)("connect-node client, %s", (name, makeTransport) => {
  let client: Client<typeof InvitesService>;
  beforeAll(() => (client = createClient(InvitesService, makeTransport(server.url))));

  test("create, read by code, list, delete", async () => {
    const email = `${name.replace(/\W+/g, "-").toLowerCase()}@example.com`;
    const { invite } = await client.create({ groupId: "protocols", email });
    expect(invite).toMatchObject({ groupId: "protocols", email });
    await expect(client.read({ code: invite!.code })).resolves.toMatchObject({ invite: { id: invite!.id } });
    const { invites } = await client.list({ email });
    expect(invites.map((i) => i.id)).toEqual([invite!.id]);
    await client.delete({ id: invite!.id });
    await expect(client.list({ email })).resolves.toMatchObject({ invites: [] });
  });

  test("errors carry the code, the field and the ErrorInfo reason", async () => {
    const err = await client.create({ groupId: "protocols", email: "nope" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toBe("email: must be a valid email address");
    expect((err as ConnectError).findDetails(ErrorInfoSchema)[0]).toMatchObject({ reason: "INVALID_EMAIL", domain: "invites" });
  });

  test("a call that outlives its deadline is DeadlineExceeded", async () => {
    const slowClient = createClient(InvitesService, makeTransport(slowServer.url));
    const started = Date.now();
    const err = await slowClient.list({}, { timeoutMs: 100 }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
    // Not a speed measurement: the answer must not wait for the slow store.
    expect(Date.now() - started).toBeLessThan(storeDelayMs);
    await expect(slowClient.list({}, { timeoutMs: 5000 })).resolves.toBeTruthy();
  });

  test("a call the client gives up on ends as canceled", async () => {
    const slowClient = createClient(InvitesService, makeTransport(slowServer.url));
    const requestId = `cancel-${name.replace(/\W+/g, "-")}`;
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const err = await slowClient.list({}, { signal: abort.signal, headers: { "x-request-id": requestId } }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Canceled);
    for (let waited = 0; waited < 3000 && !slowLines.some((l) => l.request_id === requestId); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(slowLines.find((l) => l.request_id === requestId)).toMatchObject({ code: "canceled", procedure: "invites.v1.InvitesService/List" });
  });
});

describe("@grpc/grpc-js client over h2c", () => {
  const client = () => createGrpcJsClient(new URL(server.url).host);

  test("create, read by id and code, list, delete", async () => {
    const grpc = client();
    const { invite } = await grpc.create({ groupId: "grpc-js", email: "Grpc@Example.com" });
    expect(invite?.email).toBe("grpc@example.com");
    await expect(grpc.read({ id: invite!.id, code: invite!.code.toLowerCase() })).resolves.toMatchObject({ invite: { id: invite!.id } });
    await expect(grpc.list({ groupId: "grpc-js" })).resolves.toMatchObject({ invites: [{ id: invite!.id }] });
    await grpc.delete({ id: invite!.id });
    await expect(grpc.list({ groupId: "grpc-js" })).resolves.toMatchObject({ invites: [] });
    grpc.close();
  });

  test("errors arrive as gRPC status with grpc-status-details-bin", async () => {
    const grpc = client();
    const err = (await grpc.read({ code: "ZZZZZZZZZZZZ" }).catch((e: ServiceError) => e)) as ServiceError;
    expect(err.code).toBe(GrpcStatus.NOT_FOUND);
    expect(err.details).toBe("invite not found");
    expect(err.metadata.get("grpc-status-details-bin")).toHaveLength(1);
    const invalid = (await grpc.create({ groupId: "", email: "a@example.com" }).catch((e: ServiceError) => e)) as ServiceError;
    expect(invalid.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(invalid.details).toBe("group_id: value is required");
    grpc.close();
  });
});

describe("plain fetch, Connect JSON", () => {
  test("uses proto field names and leaves empty fields out", async () => {
    const res = await fetch(`${server.url}/invites.v1.InvitesService/Create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ groupId: "fetch", email: "fetch@example.com" }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { invite: object };
    // Empty fields (inviter, role, metadata, use_count…) are left out.
    expect(Object.keys(body.invite).sort()).toEqual(["code", "create_time", "email", "expire_time", "group_id", "id", "max_uses", "state", "update_time"]);
    const list = await fetch(`${server.url}/invites.v1.InvitesService/List`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ group_id: "nobody" }),
    });
    await expect(list.json()).resolves.toEqual({});
  });

  test("an error is Connect error JSON with the HTTP status of its code", async () => {
    const res = await fetch(`${server.url}/invites.v1.InvitesService/Read`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { details: unknown[] };
    expect(body).toMatchObject({ code: "invalid_argument", message: "id or code is required" });
    expect(body.details[0]).toMatchObject({ type: "google.rpc.ErrorInfo", debug: { reason: "ID_OR_CODE_REQUIRED" } });
  });
});
