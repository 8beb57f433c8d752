import { postJson } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
beforeAll(async () => (server = await startTestServer()));
afterAll(() => server.close());

describe.each(["/invites/Invites", "/v1/invites"])("M3O paths under %s", (prefix) => {
  const call = (method: string, body: unknown, headers?: Record<string, string>) => postJson(`${server.url}${prefix}/${method}`, body, headers);

  test("the seed's example round trip, in M3O's JSON", async () => {
    const email = `john-${prefix.length}@doe.com`;
    const created = await call("Create", { group_id: "mygroup", email });
    expect(created.status).toBe(200);
    expect(created.headers.get("content-type")).toBe("application/json");
    const invite = created.json.invite;
    expect(Object.keys(created.json)).toEqual(["invite"]);
    expect(invite).toMatchObject({ group_id: "mygroup", email });
    expect(invite.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(invite.code).toMatch(/^[0-9A-Z]{12}$/);

    await expect(call("Read", { code: invite.code })).resolves.toMatchObject({ status: 200, json: { invite } });
    await expect(call("Read", { id: invite.id })).resolves.toMatchObject({ status: 200, json: { invite } });
    await expect(call("List", { email })).resolves.toMatchObject({ status: 200, json: { invites: [invite] } });
    await expect(call("Delete", { id: invite.id })).resolves.toMatchObject({ status: 200, json: {} });
    await expect(call("List", { email })).resolves.toMatchObject({ status: 200, text: "{}" });
  });

  test("matches the method case-insensitively and accepts groupId as well as group_id", async () => {
    const group = `camel${prefix.length}`;
    const created = await call("create", { groupId: group, email: "camel@example.com" });
    expect(created.status).toBe(200);
    expect(created.json.invite.group_id).toBe(group);
    await expect(call("LIST", { group_id: group })).resolves.toMatchObject({ status: 200, json: { invites: [created.json.invite] } });
  });

  test.each([
    ["Create", { email: "a@example.com" }, 400, "MISSING_GROUP_ID", "group_id: value is required"],
    ["Create", { group_id: "g" }, 400, "MISSING_EMAIL", "email: value is required"],
    ["Create", { group_id: "g", email: "nope" }, 400, "INVALID_EMAIL", "email: must be a valid email address"],
    ["Read", {}, 400, "ID_OR_CODE_REQUIRED", "id or code is required"],
    ["Read", { code: "ZZZZZZZZZZZZ" }, 404, "NOT_FOUND", "invite not found"],
    ["Delete", {}, 400, "MISSING_ID", "id: value is required"],
  ])("%s %j answers %i %s", async (method, body, status, id, detail) => {
    const res = await call(method, body);
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ id, code: status, detail, status: status === 400 ? "Bad Request" : "Not Found" });
  });

  test("malformed JSON, wrong types, an oversized body, an unknown method and GET", async () => {
    await expect(call("Create", "{not json")).resolves.toMatchObject({ status: 400, json: { id: "INVALID_JSON", code: 400 } });
    const wrongType = await call("Create", { group_id: 5, email: "a@example.com" });
    expect(wrongType).toMatchObject({ status: 400, json: { id: "INVALID_ARGUMENT", code: 400, status: "Bad Request" } });
    expect(wrongType.json.detail).toMatch(/group_id/);
    const big = await call("Create", { group_id: "g", email: "a@example.com", pad: "x".repeat(70 * 1024) });
    expect(big).toMatchObject({ status: 413, json: { id: "REQUEST_TOO_LARGE", code: 413, status: "Payload Too Large" } });
    await expect(call("Frobnicate", {})).resolves.toMatchObject({ status: 404, json: { id: "NOT_FOUND", code: 404 } });
    const get = await fetch(`${server.url}${prefix}/List`);
    expect(get.status).toBe(405);
  });
});

test("unknown paths are 404", async () => {
  expect((await fetch(`${server.url}/nothing/here`)).status).toBe(404);
  expect((await postJson(`${server.url}/invites.v1.InvitesService/Frobnicate`, {})).status).toBe(404);
});
