import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { DeleteResponseSchema } from "../../gen/invites/v1/invites_pb.js";
import { StoreUnavailableError, type InviteStore } from "../../src/store/store.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { createInMemoryService, type InMemoryService } from "../support/in-memory.js";
import { draft } from "../store/invite-drafts.js";

/** The rejection of a call, with its code, message and ErrorInfo reason. */
async function failure(call: Promise<unknown>) {
  const err = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );
  return { code: err.code, message: err.rawMessage, reason: err.findDetails(ErrorInfoSchema)[0]?.reason };
}

describe("InvitesService", () => {
  let service: InMemoryService;
  beforeEach(() => (service = createInMemoryService()));
  afterEach(() => service.close());

  describe("Create", () => {
    test("returns an invite with a UUIDv7 id, a 12-character code, and the normalised email", async () => {
      const before = Date.now();
      const { invite } = await service.client.create({ groupId: "mygroup", email: "  John@Doe.COM " });
      expect(invite?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(invite?.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
      expect(invite?.email).toBe("john@doe.com");
      expect(invite?.groupId).toBe("mygroup");
      const created = timestampDate(invite!.createTime!).getTime();
      expect(created).toBeGreaterThanOrEqual(before);
      expect(created).toBeLessThanOrEqual(Date.now());
    });

    test("is idempotent while the invite is pending, also under concurrency", async () => {
      const calls = Array.from({ length: 25 }, () => service.client.create({ groupId: "g", email: "Race@Example.com" }));
      const invites = (await Promise.all(calls)).map((r) => r.invite);
      expect(new Set(invites.map((i) => i?.id)).size).toBe(1);
      expect(new Set(invites.map((i) => i?.code)).size).toBe(1);
      const { invites: listed } = await service.client.list({});
      expect(listed).toHaveLength(1);
    });

    test("gives different codes to different invites", async () => {
      const codes = new Set<string>();
      for (let i = 0; i < 50; i++) codes.add((await service.client.create({ groupId: "g", email: `u${i}@example.com` })).invite!.code);
      expect(codes.size).toBe(50);
    });

    test.each([
      [{ email: "a@example.com" }, "MISSING_GROUP_ID", "group_id"],
      [{ groupId: "g" }, "MISSING_EMAIL", "email"],
      [{ groupId: "g", email: "not-an-email" }, "INVALID_EMAIL", "email"],
      [{ groupId: "g", email: "   " }, "INVALID_EMAIL", "email"],
      [{ groupId: "x".repeat(257), email: "a@example.com" }, "INVALID_GROUP_ID", "group_id"],
      [{ groupId: "bad\u0007group", email: "a@example.com" }, "INVALID_GROUP_ID", "group_id"],
    ])("refuses %j with %s", async (request, reason, field) => {
      const result = await failure(service.client.create(request));
      expect(result.code).toBe(Code.InvalidArgument);
      expect(result.reason).toBe(reason);
      expect(result.message.startsWith(`${field}: `)).toBe(true);
      await expect(service.client.list({})).resolves.toMatchObject({ invites: [] });
    });

    test("accepts a group id of exactly 256 characters, including non-ASCII ones", async () => {
      const groupId = "é".repeat(256);
      await expect(service.client.create({ groupId, email: "a@example.com" })).resolves.toMatchObject({ invite: { groupId } });
    });
  });

  describe("Read", () => {
    test("finds an invite by id, by code, and by both", async () => {
      const { invite } = await service.client.create({ groupId: "g", email: "a@example.com" });
      await expect(service.client.read({ id: invite!.id })).resolves.toMatchObject({ invite: { id: invite!.id } });
      await expect(service.client.read({ code: invite!.code })).resolves.toMatchObject({ invite: { id: invite!.id } });
      await expect(service.client.read({ id: invite!.id, code: invite!.code })).resolves.toMatchObject({ invite: { id: invite!.id } });
    });

    test("ignores case, spaces and dashes in a typed code, and folds look-alike letters", async () => {
      const { invite } = await service.client.create({ groupId: "g", email: "a@example.com" });
      const code = invite!.code;
      const typed = ` ${code.slice(0, 4).toLowerCase()}-${code.slice(4, 8)} ${code.slice(8)} `;
      await expect(service.client.read({ code: typed })).resolves.toMatchObject({ invite: { id: invite!.id } });
      const withLookAlikes = code.replace(/1/g, "l").replace(/0/g, "O");
      await expect(service.client.read({ code: withLookAlikes })).resolves.toMatchObject({ invite: { id: invite!.id } });
      // A random code may hold no 0 or 1 at all: a fixed one that holds both.
      const fixed = draft({ namespace: "default", code: "0123456789AB" });
      await service.store.createInvite(fixed);
      await expect(service.client.read({ code: "OI23456789ab" })).resolves.toMatchObject({ invite: { id: fixed.id } });
      await expect(service.client.read({ code: "ol23456789AB" })).resolves.toMatchObject({ invite: { id: fixed.id } });
    });

    test("is NotFound when id and code belong to different invites", async () => {
      const a = (await service.client.create({ groupId: "g", email: "a@example.com" })).invite!;
      const b = (await service.client.create({ groupId: "g", email: "b@example.com" })).invite!;
      await expect(failure(service.client.read({ id: a.id, code: b.code }))).resolves.toEqual({
        code: Code.NotFound,
        message: "invite not found",
        reason: "NOT_FOUND",
      });
    });

    test("is NotFound for an unknown id or code", async () => {
      await expect(failure(service.client.read({ id: "1b4e28ba-2fa1-41d2-883f-0016d3cca427" }))).resolves.toMatchObject({ code: Code.NotFound, reason: "NOT_FOUND" });
      await expect(failure(service.client.read({ code: "ABCDEFGHJKMN" }))).resolves.toMatchObject({ code: Code.NotFound });
      await expect(failure(service.client.read({ code: "too-short" }))).resolves.toMatchObject({ code: Code.NotFound });
    });

    test("needs an id or a code", async () => {
      await expect(failure(service.client.read({}))).resolves.toEqual({
        code: Code.InvalidArgument,
        message: "id or code is required",
        reason: "ID_OR_CODE_REQUIRED",
      });
    });

    test("refuses an id that is not a UUID", async () => {
      await expect(failure(service.client.read({ id: "42" }))).resolves.toMatchObject({ code: Code.InvalidArgument, reason: "INVALID_ID" });
    });
  });

  describe("List", () => {
    async function createMany(count: number, groupId = "g") {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push((await service.client.create({ groupId, email: `user${i}@example.com` })).invite!.id);
      return ids;
    }

    test("filters by group, by email (case-insensitively), by both, or lists the namespace", async () => {
      await service.client.create({ groupId: "a", email: "one@example.com" });
      await service.client.create({ groupId: "a", email: "two@example.com" });
      await service.client.create({ groupId: "b", email: "one@example.com" });
      const emails = async (req: object) => (await service.client.list(req)).invites.map((i) => `${i.groupId}/${i.email}`);
      await expect(emails({})).resolves.toEqual(["b/one@example.com", "a/two@example.com", "a/one@example.com"]);
      await expect(emails({ groupId: "a" })).resolves.toEqual(["a/two@example.com", "a/one@example.com"]);
      await expect(emails({ email: " ONE@example.com" })).resolves.toEqual(["b/one@example.com", "a/one@example.com"]);
      await expect(emails({ groupId: "b", email: "one@example.com" })).resolves.toEqual(["b/one@example.com"]);
      await expect(emails({ groupId: "nobody" })).resolves.toEqual([]);
    });

    test("pages newest first until the last page, which has no token", async () => {
      const ids = (await createMany(7)).reverse();
      const seen: string[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const page = await service.client.list({ pageSize: 3, pageToken });
        seen.push(...page.invites.map((i) => i.id));
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken !== "");
      expect(seen).toEqual(ids);
      expect(pages).toBe(3);
    });

    test("stays correct when invites are created and deleted between pages", async () => {
      const ids = (await createMany(6)).reverse();
      const first = await service.client.list({ pageSize: 2 });
      expect(first.invites.map((i) => i.id)).toEqual(ids.slice(0, 2));
      await service.client.delete({ id: ids[1] });
      await service.client.delete({ id: ids[2] });
      await service.client.create({ groupId: "g", email: "late@example.com" });
      const second = await service.client.list({ pageSize: 2, pageToken: first.nextPageToken });
      expect(second.invites.map((i) => i.id)).toEqual(ids.slice(3, 5));
      const third = await service.client.list({ pageSize: 2, pageToken: second.nextPageToken });
      expect(third.invites.map((i) => i.id)).toEqual(ids.slice(5));
      expect(third.nextPageToken).toBe("");
    });

    test("uses 100 for page_size 0 and caps it at 1000", async () => {
      await createMany(101);
      const page = await service.client.list({});
      expect(page.invites).toHaveLength(100);
      expect(page.nextPageToken).not.toBe("");
      await expect(service.client.list({ pageSize: 5000 })).resolves.toMatchObject({ nextPageToken: "" });
      // 101 invites cannot show the cap: ask the store what it was asked for.
      const store = openSqliteStore({ filename: ":memory:" });
      const limits: number[] = [];
      const listInvites: InviteStore["listInvites"] = (query) => (limits.push(query.limit), store.listInvites(query));
      const watched = createInMemoryService({ store: { ...store, listInvites } });
      await watched.client.list({ pageSize: 5000 });
      await watched.client.list({});
      expect(limits).toEqual([1000, 100]);
      await watched.close();
    });

    test("refuses a negative page size", async () => {
      await expect(failure(service.client.list({ pageSize: -1 }))).resolves.toMatchObject({
        code: Code.InvalidArgument,
        reason: "INVALID_PAGE_SIZE",
      });
    });

    test("refuses a malformed token, and a token used with other filters", async () => {
      await createMany(3);
      const { nextPageToken } = await service.client.list({ pageSize: 1 });
      for (const request of [{ pageToken: "garbage" }, { pageToken: nextPageToken, groupId: "other" }, { pageToken: Buffer.from("{}").toString("base64url") }]) {
        await expect(failure(service.client.list(request))).resolves.toMatchObject({
          code: Code.InvalidArgument,
          reason: "INVALID_PAGE_TOKEN",
          message: expect.stringMatching(/^page_token: /),
        });
      }
    });
  });

  describe("Delete", () => {
    test("removes the invite; deleting an unknown id succeeds", async () => {
      const { invite } = await service.client.create({ groupId: "g", email: "a@example.com" });
      await expect(service.client.delete({ id: invite!.id })).resolves.toEqual(create(DeleteResponseSchema));
      await expect(failure(service.client.read({ id: invite!.id }))).resolves.toMatchObject({ code: Code.NotFound });
      await expect(service.client.delete({ id: invite!.id })).resolves.toEqual(create(DeleteResponseSchema));
    });

    test("needs a UUID", async () => {
      await expect(failure(service.client.delete({}))).resolves.toMatchObject({ code: Code.InvalidArgument, reason: "MISSING_ID" });
      await expect(failure(service.client.delete({ id: "nope" }))).resolves.toMatchObject({ code: Code.InvalidArgument, reason: "INVALID_ID" });
    });
  });
});

describe("InvitesService storage failures", () => {
  function failingStore(error: Error): InviteStore {
    const store = openSqliteStore({ filename: ":memory:" });
    return { ...store, findInviteById: async () => Promise.reject(error) };
  }

  test("an unavailable database is Unavailable", async () => {
    const service = createInMemoryService({ store: failingStore(new StoreUnavailableError("sqlite: SQLITE_BUSY")) });
    await expect(failure(service.client.read({ id: "1b4e28ba-2fa1-41d2-883f-0016d3cca427" }))).resolves.toMatchObject({
      code: Code.Unavailable,
      reason: "DATABASE_UNAVAILABLE",
    });
    await service.close();
  });

  test("any other failure is Internal and does not leak its message", async () => {
    const service = createInMemoryService({ store: failingStore(new Error("SELECT secret FROM invites failed")) });
    const result = await failure(service.client.read({ id: "1b4e28ba-2fa1-41d2-883f-0016d3cca427" }));
    expect(result).toMatchObject({ code: Code.Internal, reason: "DATABASE_ERROR" });
    expect(result.message).not.toMatch(/SELECT|secret/);
    await service.close();
  });
});
