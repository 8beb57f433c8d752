import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { postJson } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const acmeKey = "acme-key-0123456789abcdef";
const globexKey = "globex-key-0123456789abcdef";
const adminKey = "admin-key-0123456789abcdef";

describe("with API keys", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ apiKeysText: `${acmeKey}:acme, ${globexKey}:globex\n${adminKey}:*` });
  });
  afterAll(() => server.close());

  const m3o = (method: string, body: unknown, headers: Record<string, string>) => postJson(`${server.url}/v1/invites/${method}`, body, headers);
  const bearer = (key: string, namespace?: string) => ({
    authorization: `Bearer ${key}`,
    ...(namespace ? { "micro-namespace": namespace } : {}),
  });

  test("a request without a valid key is Unauthenticated, before any validation", async () => {
    await expect(m3o("Create", {}, {})).resolves.toMatchObject({ status: 401, json: { id: "UNAUTHENTICATED", code: 401, status: "Unauthorized" } });
    await expect(m3o("Create", {}, { authorization: "Bearer wrong-key-0123456789" })).resolves.toMatchObject({ status: 401 });
    await expect(m3o("Create", {}, { authorization: acmeKey })).resolves.toMatchObject({ status: 401 });
    const client = createClient(InvitesService, createGrpcTransport({ baseUrl: server.url }));
    const err = await client.list({}).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });

  test("a key acts in its own namespace; naming another is PermissionDenied", async () => {
    const created = await m3o("Create", { group_id: "g", email: "a@example.com" }, bearer(acmeKey));
    expect(created.status).toBe(200);
    await expect(m3o("Read", { id: created.json.invite.id }, bearer(acmeKey, "acme"))).resolves.toMatchObject({ status: 200 });
    await expect(m3o("Read", { id: created.json.invite.id }, bearer(acmeKey, "globex"))).resolves.toMatchObject({
      status: 403,
      json: { id: "PERMISSION_DENIED", code: 403 },
    });
  });

  test("no namespace sees or changes another's invites, codes included", async () => {
    const acme = (await m3o("Create", { group_id: "shared", email: "same@example.com" }, bearer(acmeKey))).json.invite;
    const globex = (await m3o("Create", { group_id: "shared", email: "same@example.com" }, bearer(globexKey))).json.invite;
    expect(globex.id).not.toBe(acme.id);
    await expect(m3o("Read", { code: acme.code }, bearer(globexKey))).resolves.toMatchObject({ status: 404 });
    await expect(m3o("Read", { id: acme.id }, bearer(globexKey))).resolves.toMatchObject({ status: 404 });
    await expect(m3o("List", { group_id: "shared" }, bearer(globexKey))).resolves.toMatchObject({ json: { invites: [globex] } });
    await m3o("Delete", { id: acme.id }, bearer(globexKey));
    await expect(m3o("Read", { code: acme.code }, bearer(acmeKey))).resolves.toMatchObject({ status: 200, json: { invite: acme } });
  });

  test("a key for every namespace chooses one with micro-namespace, else default", async () => {
    const inAcme = await m3o("List", { group_id: "shared" }, bearer(adminKey, "acme"));
    expect(inAcme.json.invites).toHaveLength(1);
    const created = await m3o("Create", { group_id: "g", email: "admin@example.com" }, bearer(adminKey));
    await expect(m3o("Read", { id: created.json.invite.id }, bearer(adminKey, "default"))).resolves.toMatchObject({ status: 200 });
    await expect(m3o("Read", { id: created.json.invite.id }, bearer(adminKey, "acme"))).resolves.toMatchObject({ status: 404 });
  });

  test("a malformed namespace is InvalidArgument", async () => {
    await expect(m3o("List", {}, bearer(adminKey, "../etc"))).resolves.toMatchObject({ status: 400, json: { id: "INVALID_NAMESPACE" } });
  });

  test("gRPC clients send the key as metadata", async () => {
    const grpc = createGrpcJsClient(new URL(server.url).host);
    const listed = await grpc.list({}, { authorization: `Bearer ${acmeKey}` });
    expect(listed.invites.length).toBeGreaterThan(0);
    expect(new Set(listed.invites.map((i) => i.groupId))).toEqual(new Set(["g", "shared"]));
    const err = (await grpc.list({}).catch((e: ServiceError) => e)) as ServiceError;
    expect(err.code).toBe(GrpcStatus.UNAUTHENTICATED);
    const denied = (await grpc.list({}, { authorization: `Bearer ${acmeKey}`, "micro-namespace": "globex" }).catch((e: ServiceError) => e)) as ServiceError;
    expect(denied.code).toBe(GrpcStatus.PERMISSION_DENIED);
    grpc.close();
  });

  test("health needs no key", async () => {
    const res = await postJson(`${server.url}/grpc.health.v1.Health/Check`, {});
    expect(res).toMatchObject({ status: 200, json: { status: "SERVING" } });
  });
});

describe("without API keys", () => {
  let server: TestServer;
  beforeAll(async () => (server = await startTestServer()));
  afterAll(() => server.close());

  test("requests are open and namespaced by micro-namespace, default otherwise", async () => {
    const url = `${server.url}/invites/Invites/`;
    const created = await postJson(`${url}Create`, { group_id: "g", email: "a@example.com" }, { "micro-namespace": "team1" });
    expect(created.status).toBe(200);
    await expect(postJson(`${url}Read`, { id: created.json.invite.id })).resolves.toMatchObject({ status: 404 });
    await expect(postJson(`${url}Read`, { id: created.json.invite.id }, { "micro-namespace": "team1" })).resolves.toMatchObject({ status: 200 });
  });
});
