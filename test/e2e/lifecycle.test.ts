import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { InviteState, InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { postJson } from "../support/http.js";
import { createTestDatabase } from "../support/test-database.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const day = 24 * 60 * 60 * 1000;
let clock = Date.parse("2026-06-01T12:00:00Z");
const now = () => new Date(clock);
const advance = (ms: number) => (clock += ms);

let server: TestServer;
let client: Client<typeof InvitesService>;
beforeAll(async () => {
  server = await startTestServer({}, { now });
  client = createClient(InvitesService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
});
afterAll(() => server.close());

let counter = 0;
const uniqueEmail = () => `user${++counter}@example.com`;

async function failure(call: Promise<unknown>) {
  const err = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );
  return { code: err.code, reason: err.findDetails(ErrorInfoSchema)[0]?.reason, message: err.rawMessage };
}

const seconds = (ms: number) => ({ seconds: BigInt(ms / 1000) });

describe("Create", () => {
  test("makes a pending single-use invite that expires in 7 days by default, with its extras", async () => {
    const { invite } = await client.create({ groupId: "g", email: uniqueEmail(), inviter: "alice", role: "admin", metadata: { team: "blue" } });
    expect(invite).toMatchObject({ state: InviteState.PENDING, maxUses: 1, useCount: 0, inviter: "alice", role: "admin", metadata: { team: "blue" } });
    expect(timestampDate(invite!.expireTime!).getTime()).toBe(clock + 7 * day);
    expect(timestampDate(invite!.updateTime!).getTime()).toBe(clock);
    expect(invite!.acceptTime).toBeUndefined();
  });

  test("takes a ttl, an expire_time, or an explicit never_expires", async () => {
    const ttl = await client.create({ groupId: "g", email: uniqueEmail(), expiration: { case: "ttl", value: seconds(2 * day) } });
    expect(timestampDate(ttl.invite!.expireTime!).getTime()).toBe(clock + 2 * day);
    const at = new Date(Date.now() + 3 * day);
    const fixed = await client.create({ groupId: "g", email: uniqueEmail(), expiration: { case: "expireTime", value: timestampFromDate(at) } });
    expect(timestampDate(fixed.invite!.expireTime!).getTime()).toBe(at.getTime());
    const never = await client.create({ groupId: "g", email: uniqueEmail(), expiration: { case: "neverExpires", value: true } });
    expect(never.invite!.expireTime).toBeUndefined();
  });

  test.each([
    [{ expiration: { case: "ttl" as const, value: seconds(366 * day) } }, "INVALID_TTL"],
    [{ expiration: { case: "ttl" as const, value: { seconds: 0n } } }, "INVALID_TTL"],
    [{ expiration: { case: "expireTime" as const, value: timestampFromDate(new Date(Date.now() - 1000)) } }, "INVALID_EXPIRE_TIME"],
    [{ expiration: { case: "expireTime" as const, value: timestampFromDate(new Date(Date.now() + 400 * day)) } }, "INVALID_EXPIRE_TIME"],
    [{ expiration: { case: "neverExpires" as const, value: false } }, "INVALID_NEVER_EXPIRES"],
    [{ metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) }, "INVALID_METADATA"],
    [{ maxUses: -1 }, "INVALID_MAX_USES"],
    [{ role: "r".repeat(65) }, "INVALID_ROLE"],
  ])("refuses %j with %s", async (extra, reason) => {
    await expect(failure(client.create({ groupId: "g", email: uniqueEmail(), ...extra }))).resolves.toMatchObject({ code: Code.InvalidArgument, reason });
  });

  test("email may be left out only for an open or multi-use link", async () => {
    await expect(failure(client.create({ groupId: "g" }))).resolves.toMatchObject({ code: Code.InvalidArgument, reason: "MISSING_EMAIL" });
    await expect(failure(client.create({ groupId: "g", maxUses: 1 }))).resolves.toMatchObject({ reason: "MISSING_EMAIL" });
    await expect(client.create({ groupId: "g", openLink: true })).resolves.toMatchObject({ invite: { email: "", maxUses: 1 } });
    await expect(client.create({ groupId: "g", maxUses: 5 })).resolves.toMatchObject({ invite: { email: "", maxUses: 5 } });
    await expect(client.create({ groupId: "g", maxUses: 0 })).resolves.toMatchObject({ invite: { email: "", maxUses: 0 } });
    await expect(failure(client.create({ groupId: "g", email: uniqueEmail(), openLink: true }))).resolves.toMatchObject({ reason: "INVALID_OPEN_LINK" });
  });

  test("the M3O paths still require an email", async () => {
    const res = await postJson(`${server.url}/v1/invites/Create`, { group_id: "g", open_link: true });
    expect(res).toMatchObject({ status: 400, json: { id: "MISSING_EMAIL", detail: "email: value is required" } });
  });
});

describe("Accept", () => {
  test("redeems once, records who and when, and ends a single-use invite", async () => {
    const email = uniqueEmail();
    const { invite } = await client.create({ groupId: "g", email });
    advance(1000);
    const accepted = await client.accept({ code: invite!.code.toLowerCase(), userId: "u1", email: ` ${email.toUpperCase()} ` });
    expect(accepted.invite).toMatchObject({ id: invite!.id, state: InviteState.ACCEPTED, useCount: 1 });
    expect(timestampDate(accepted.invite!.acceptTime!).getTime()).toBe(clock);
    await expect(client.read({ code: invite!.code })).resolves.toMatchObject({ invite: { state: InviteState.ACCEPTED } });
    const { acceptances } = await client.listAcceptances({ id: invite!.id });
    expect(acceptances).toEqual([expect.objectContaining({ inviteId: invite!.id, userId: "u1", email })]);
  });

  test("the same user accepting again gets the same result without a second use", async () => {
    const { invite } = await client.create({ groupId: "g", maxUses: 3 });
    const first = await client.accept({ code: invite!.code, userId: "same" });
    const again = await client.accept({ code: invite!.code, userId: "same" });
    expect(again.invite).toEqual(first.invite);
    expect(again.invite!.useCount).toBe(1);
  });

  test("refuses another email, an unknown code, and a used-up invite", async () => {
    const { invite } = await client.create({ groupId: "g", email: uniqueEmail() });
    await expect(failure(client.accept({ code: invite!.code, userId: "u", email: "intruder@example.com" }))).resolves.toMatchObject({
      code: Code.PermissionDenied,
      reason: "INVITE_EMAIL_MISMATCH",
      message: expect.stringMatching(/^email: /),
    });
    await expect(failure(client.accept({ code: invite!.code, userId: "u" }))).resolves.toMatchObject({ reason: "INVITE_EMAIL_MISMATCH" });
    await expect(failure(client.accept({ code: "ZZZZ-ZZZZ-ZZZZ", userId: "u" }))).resolves.toMatchObject({ code: Code.NotFound, reason: "NOT_FOUND" });
    await client.accept({ code: invite!.code, userId: "u", email: invite!.email });
    await expect(failure(client.accept({ code: invite!.code, userId: "other", email: invite!.email }))).resolves.toMatchObject({
      code: Code.FailedPrecondition,
      reason: "INVITE_USED_UP",
    });
  });

  test("needs a code and a user", async () => {
    await expect(failure(client.accept({ userId: "u" }))).resolves.toMatchObject({ reason: "MISSING_CODE" });
    await expect(failure(client.accept({ code: "ABCD" }))).resolves.toMatchObject({ reason: "MISSING_USER_ID" });
    await expect(failure(client.accept({ code: "ABCD", userId: "u", email: "bad" }))).resolves.toMatchObject({ reason: "INVALID_EMAIL" });
  });

  test("a used-up link says used up, never expired, even after its expiry", async () => {
    const { invite } = await client.create({ groupId: "g", openLink: true, expiration: { case: "ttl", value: seconds(day) } });
    await client.accept({ code: invite!.code, userId: "first" });
    advance(2 * day);
    await expect(failure(client.accept({ code: invite!.code, userId: "late" }))).resolves.toMatchObject({ reason: "INVITE_USED_UP" });
  });
});

describe("expiry", () => {
  test("is computed when read: EXPIRED in Read and List, refused by Accept", async () => {
    const email = uniqueEmail();
    const { invite } = await client.create({ groupId: "exp", email, expiration: { case: "ttl", value: seconds(day) } });
    advance(day);
    await expect(client.read({ id: invite!.id })).resolves.toMatchObject({ invite: { state: InviteState.EXPIRED } });
    const expired = await client.list({ groupId: "exp", states: [InviteState.EXPIRED] });
    expect(expired.invites.map((i) => i.id)).toEqual([invite!.id]);
    await expect(client.list({ groupId: "exp", states: [InviteState.PENDING] })).resolves.toMatchObject({ invites: [] });
    await expect(failure(client.accept({ code: invite!.code, userId: "u", email }))).resolves.toMatchObject({
      code: Code.FailedPrecondition,
      reason: "INVITE_EXPIRED",
    });
  });

  test("after expiry Create makes a new invite, and the old one can no longer be renewed", async () => {
    const email = uniqueEmail();
    const old = (await client.create({ groupId: "g", email, expiration: { case: "ttl", value: seconds(day) } })).invite!;
    advance(day + 1000);
    const fresh = (await client.create({ groupId: "g", email })).invite!;
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.state).toBe(InviteState.PENDING);
    await expect(failure(client.renew({ id: old.id }))).resolves.toMatchObject({ code: Code.FailedPrecondition, reason: "INVITE_ALREADY_PENDING" });
  });
});

describe("Renew", () => {
  test("revives an expired invite with a new code; the old code stops working", async () => {
    const email = uniqueEmail();
    const { invite } = await client.create({ groupId: "g", email, expiration: { case: "ttl", value: seconds(day) } });
    advance(2 * day);
    const { invite: renewed } = await client.renew({ id: invite!.id, rotateCode: true, expiration: { case: "ttl", value: seconds(3 * day) } });
    expect(renewed).toMatchObject({ id: invite!.id, state: InviteState.PENDING });
    expect(renewed!.code).not.toBe(invite!.code);
    expect(timestampDate(renewed!.expireTime!).getTime()).toBe(clock + 3 * day);
    await expect(failure(client.read({ code: invite!.code }))).resolves.toMatchObject({ code: Code.NotFound });
    await expect(failure(client.accept({ code: invite!.code, userId: "u", email }))).resolves.toMatchObject({ code: Code.NotFound });
    await expect(client.accept({ code: renewed!.code, userId: "u", email })).resolves.toMatchObject({ invite: { state: InviteState.ACCEPTED } });
  });

  test("extends a pending invite by the default ttl and keeps its code", async () => {
    const { invite } = await client.create({ groupId: "g", email: uniqueEmail(), expiration: { case: "ttl", value: seconds(day) } });
    advance(1000);
    const { invite: renewed } = await client.renew({ id: invite!.id });
    expect(renewed!.code).toBe(invite!.code);
    expect(timestampDate(renewed!.expireTime!).getTime()).toBe(clock + 7 * day);
  });

  test("refuses revoked and used-up invites, and unknown ids", async () => {
    const revoked = (await client.create({ groupId: "g", email: uniqueEmail() })).invite!;
    await client.revoke({ id: revoked.id });
    await expect(failure(client.renew({ id: revoked.id }))).resolves.toMatchObject({ code: Code.FailedPrecondition, reason: "INVITE_REVOKED" });
    const used = (await client.create({ groupId: "g", openLink: true })).invite!;
    await client.accept({ code: used.code, userId: "u" });
    await expect(failure(client.renew({ id: used.id }))).resolves.toMatchObject({ reason: "INVITE_ALREADY_ACCEPTED" });
    await expect(failure(client.renew({ id: "1b4e28ba-2fa1-41d2-883f-0016d3cca427" }))).resolves.toMatchObject({ code: Code.NotFound });
  });
});

describe("Revoke", () => {
  test("keeps the invite readable as REVOKED, refuses Accept, and is idempotent", async () => {
    const email = uniqueEmail();
    const { invite } = await client.create({ groupId: "rev", email });
    advance(1000);
    const { invite: revoked } = await client.revoke({ id: invite!.id });
    expect(revoked).toMatchObject({ state: InviteState.REVOKED });
    expect(timestampDate(revoked!.revokeTime!).getTime()).toBe(clock);
    await expect(client.revoke({ id: invite!.id })).resolves.toEqual({ $typeName: "invites.v1.RevokeResponse", invite: revoked });
    await expect(client.read({ code: invite!.code })).resolves.toMatchObject({ invite: { state: InviteState.REVOKED } });
    await expect(failure(client.accept({ code: invite!.code, userId: "u", email }))).resolves.toMatchObject({
      code: Code.FailedPrecondition,
      reason: "INVITE_REVOKED",
    });
    await expect(client.list({ groupId: "rev", states: [InviteState.REVOKED] })).resolves.toMatchObject({ invites: [{ id: invite!.id }] });
    const again = await client.create({ groupId: "rev", email });
    expect(again.invite!.id).not.toBe(invite!.id);
  });

  test("disables a partly used multi-use link", async () => {
    const { invite } = await client.create({ groupId: "g", maxUses: 5 });
    await client.accept({ code: invite!.code, userId: "a" });
    await expect(client.revoke({ id: invite!.id })).resolves.toMatchObject({ invite: { state: InviteState.REVOKED, useCount: 1 } });
    await expect(failure(client.accept({ code: invite!.code, userId: "b" }))).resolves.toMatchObject({ reason: "INVITE_REVOKED" });
  });

  test("refuses a used-up invite and an unknown id", async () => {
    const { invite } = await client.create({ groupId: "g", openLink: true });
    await client.accept({ code: invite!.code, userId: "a" });
    await expect(failure(client.revoke({ id: invite!.id }))).resolves.toMatchObject({ code: Code.FailedPrecondition, reason: "INVITE_ALREADY_ACCEPTED" });
    await expect(failure(client.revoke({ id: "1b4e28ba-2fa1-41d2-883f-0016d3cca427" }))).resolves.toMatchObject({ code: Code.NotFound });
  });
});

describe("ListAcceptances", () => {
  test("pages through who accepted, oldest first", async () => {
    const { invite } = await client.create({ groupId: "g", maxUses: 0 });
    for (let i = 0; i < 5; i++) {
      advance(1000);
      await client.accept({ code: invite!.code, userId: `user-${i}`, email: `user-${i}@example.com` });
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await client.listAcceptances({ id: invite!.id, pageSize: 2, pageToken });
      seen.push(...page.acceptances.map((a) => a.userId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(["user-0", "user-1", "user-2", "user-3", "user-4"]);
    await expect(client.read({ id: invite!.id })).resolves.toMatchObject({ invite: { useCount: 5, maxUses: 0, state: InviteState.PENDING } });
  });

  test("is NotFound for an unknown invite and refuses a token from another invite", async () => {
    await expect(failure(client.listAcceptances({ id: "1b4e28ba-2fa1-41d2-883f-0016d3cca427" }))).resolves.toMatchObject({ code: Code.NotFound });
    const a = (await client.create({ groupId: "g", maxUses: 0 })).invite!;
    const b = (await client.create({ groupId: "g", maxUses: 0 })).invite!;
    for (const user of ["x", "y"]) await client.accept({ code: a.code, userId: user });
    const { nextPageToken } = await client.listAcceptances({ id: a.id, pageSize: 1 });
    await expect(failure(client.listAcceptances({ id: b.id, pageToken: nextPageToken }))).resolves.toMatchObject({ reason: "INVALID_PAGE_TOKEN" });
  });
});

describe("races", () => {
  test("50 concurrent accepts of a single-use invite: exactly one succeeds, the rest are INVITE_USED_UP", async () => {
    const { invite } = await client.create({ groupId: "race", openLink: true });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.accept({ code: invite!.code, userId: `racer-${i}` })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const reasons = results.flatMap((r) => (r.status === "rejected" ? [ConnectError.from(r.reason).findDetails(ErrorInfoSchema)[0]?.reason] : []));
    expect(reasons).toEqual(Array(49).fill("INVITE_USED_UP"));
  });

  test("50 distinct users racing for a ten-use invite: exactly ten succeed and use_count is 10", async () => {
    const { invite } = await client.create({ groupId: "race", maxUses: 10 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.accept({ code: invite!.code, userId: `racer-${i}` })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
    await expect(client.read({ id: invite!.id })).resolves.toMatchObject({ invite: { useCount: 10, state: InviteState.ACCEPTED } });
    const { acceptances } = await client.listAcceptances({ id: invite!.id });
    expect(acceptances).toHaveLength(10);
  });
});

describe("retention", () => {
  test("purges invites finished longer ago than the retention, and keeps the rest", async () => {
    const testDatabase = await createTestDatabase();
    let t = Date.parse("2026-03-01T00:00:00Z");
    const first = await startTestServer({ testDatabase }, { now: () => new Date(t) });
    const c = createClient(InvitesService, createConnectTransport({ baseUrl: first.url, httpVersion: "1.1" }));
    const revoked = (await c.create({ groupId: "g", email: "gone@example.com" })).invite!;
    await c.revoke({ id: revoked.id });
    const kept = (await c.create({ groupId: "g", email: "kept@example.com", expiration: { case: "neverExpires", value: true } })).invite!;
    await first.close();

    t += 31 * day;
    const second = await startTestServer({ testDatabase, retentionMs: 30 * day }, { now: () => new Date(t) });
    const c2 = createClient(InvitesService, createConnectTransport({ baseUrl: second.url, httpVersion: "1.1" }));
    await expect(c2.list({ groupId: "g" })).resolves.toMatchObject({ invites: [{ id: kept.id }] });
    await second.close();
    await testDatabase.remove();
  });
});

