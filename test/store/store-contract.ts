import { randomUUID } from "node:crypto";
import { generateInviteCode } from "../../src/invites/invite-code.js";
import { DuplicateCodeError, PendingInviteExistsError, StoreUnavailableError, type InviteRecord, type InviteStore, type ListQuery } from "../../src/store/store.js";

export interface StoreFactory {
  open(): Promise<InviteStore>;
  /** Opens the database of the last open() again. */
  reopen(): Promise<InviteStore>;
  /** Removes what open() made. */
  cleanup(): Promise<void>;
}

const hour = 60 * 60 * 1000;
let clock = Date.parse("2026-01-01T00:00:00Z");
/** A time after every draft made so far. */
const later = (ms = 0) => new Date(clock + 1000 + ms);

export function draft(overrides: Partial<InviteRecord> = {}): InviteRecord {
  clock += 1000;
  const createTime = new Date(clock);
  return {
    id: randomUUID(),
    namespace: "ns1",
    groupId: "group-a",
    email: `${randomUUID().slice(0, 8)}@example.com`,
    code: generateInviteCode(),
    state: "pending",
    createTime,
    updateTime: createTime,
    expireTime: new Date(clock + 24 * hour),
    inviter: "alice",
    role: "member",
    metadata: { source: "test" },
    maxUses: 1,
    useCount: 0,
    ...overrides,
  };
}

/** The behaviour every InviteStore must have, run against each implementation. */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} store contract`, () => {
    let store: InviteStore;
    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup();
    });

    const list = async (query: Partial<ListQuery> = {}) =>
      (await store.listInvites({ namespace: "ns1", limit: 100, now: later(), ...query })).items;
    const accept = (invite: InviteRecord, userId: string, now = later(), email = invite.email) =>
      store.acceptInvite({ namespace: invite.namespace, code: invite.code, userId, email, now });

    describe("create, read, list, delete", () => {
      test("creates and finds an invite by id and by code, every field kept", async () => {
        const invite = draft({ metadata: { team: "blue", "": "empty key" }, maxUses: 0, expireTime: undefined });
        await expect(store.createInvite(invite)).resolves.toEqual({ invite, created: true });
        await expect(store.findInviteById("ns1", invite.id)).resolves.toEqual(invite);
        await expect(store.findInviteByCode("ns1", invite.code)).resolves.toEqual(invite);
      });

      test("returns the existing pending invite for the same namespace, group and email", async () => {
        const first = draft({ email: "same@example.com" });
        await store.createInvite(first);
        const second = await store.createInvite(draft({ email: "same@example.com" }));
        expect(second).toEqual({ invite: first, created: false });
        await expect(list()).resolves.toEqual([first]);
      });

      test("concurrent creates for one email and group make one invite", async () => {
        const results = await Promise.all(Array.from({ length: 20 }, () => store.createInvite(draft({ email: "race@example.com" }))));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.invite.id)).size).toBe(1);
      });

      test("invites without email are never merged", async () => {
        const a = await store.createInvite(draft({ email: "", maxUses: 5 }));
        const b = await store.createInvite(draft({ email: "", maxUses: 5 }));
        expect(a.created && b.created).toBe(true);
      });

      test("the same email in another group or namespace is another invite", async () => {
        await store.createInvite(draft({ email: "x@example.com" }));
        await expect(store.createInvite(draft({ email: "x@example.com", groupId: "group-b" }))).resolves.toMatchObject({ created: true });
        await expect(store.createInvite(draft({ email: "x@example.com", namespace: "ns2" }))).resolves.toMatchObject({ created: true });
      });

      test("refuses a code that is already taken, in any namespace", async () => {
        const first = draft();
        await store.createInvite(first);
        await expect(store.createInvite(draft({ code: first.code, namespace: "ns2" }))).rejects.toBeInstanceOf(DuplicateCodeError);
        await expect(store.findInviteByCode("ns2", first.code)).resolves.toBeUndefined();
      });

      test("a clashing code fails only its own Create among concurrent ones", async () => {
        const first = draft();
        const [a, clash, c] = [first, draft({ code: first.code }), draft()];
        const results = await Promise.allSettled([a, clash, c].map((invite) => store.createInvite(invite)));
        expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
        expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateCodeError);
        await expect(list()).resolves.toEqual([c, a]);
        await expect(store.findInviteById("ns1", clash.id)).resolves.toBeUndefined();
      });

      test("never shows one namespace's invites to another", async () => {
        const invite = draft();
        await store.createInvite(invite);
        await expect(store.findInviteById("ns2", invite.id)).resolves.toBeUndefined();
        await expect(store.findInviteByCode("ns2", invite.code)).resolves.toBeUndefined();
        await expect(list({ namespace: "ns2" })).resolves.toEqual([]);
        await expect(store.deleteInvite("ns2", invite.id)).resolves.toBe(false);
        await expect(store.acceptInvite({ namespace: "ns2", code: invite.code, userId: "u", email: invite.email, now: later() })).resolves.toEqual({ kind: "missing" });
        await expect(store.revokeInvite("ns2", invite.id, later())).resolves.toEqual({ kind: "missing" });
        await expect(store.renewInvite({ namespace: "ns2", id: invite.id, expireTime: undefined, now: later() })).resolves.toEqual({ kind: "missing" });
        await expect(store.listAcceptances("ns2", invite.id, 10)).resolves.toEqual({ items: [], next: undefined });
        await expect(store.findInviteById("ns1", invite.id)).resolves.toEqual(invite);
      });

      test("lists newest first with filters and keyset pages", async () => {
        const a1 = draft({ groupId: "a", email: "one@example.com" });
        const a2 = draft({ groupId: "a", email: "two@example.com" });
        const b1 = draft({ groupId: "b", email: "one@example.com" });
        for (const invite of [a1, a2, b1]) await store.createInvite(invite);
        await expect(list()).resolves.toEqual([b1, a2, a1]);
        await expect(list({ groupId: "a" })).resolves.toEqual([a2, a1]);
        await expect(list({ email: "one@example.com" })).resolves.toEqual([b1, a1]);
        await expect(list({ groupId: "b", email: "one@example.com" })).resolves.toEqual([b1]);
        const firstPage = await store.listInvites({ namespace: "ns1", limit: 2, now: later() });
        expect(firstPage.items).toEqual([b1, a2]);
        expect(firstPage.next).toBeDefined();
        const secondPage = await store.listInvites({ namespace: "ns1", limit: 2, after: firstPage.next, now: later() });
        expect(secondPage).toEqual({ items: [a1], next: undefined });
      });

      test("orders invites created in the same millisecond by insertion", async () => {
        const createTime = new Date(clock + 500);
        const invites = [draft({ createTime }), draft({ createTime }), draft({ createTime })];
        for (const invite of invites) await store.createInvite(invite);
        const first = await store.listInvites({ namespace: "ns1", limit: 1, now: later() });
        const rest = await store.listInvites({ namespace: "ns1", limit: 5, after: first.next, now: later() });
        expect([...first.items, ...rest.items]).toEqual([...invites].reverse());
      });

      test("deletes, and deleting again reports nothing removed", async () => {
        const invite = draft();
        await store.createInvite(invite);
        await accept(invite, "user-1");
        await expect(store.deleteInvite("ns1", invite.id)).resolves.toBe(true);
        await expect(store.findInviteById("ns1", invite.id)).resolves.toBeUndefined();
        await expect(store.deleteInvite("ns1", invite.id)).resolves.toBe(false);
      });

      test("after a delete, a create for the same email and group makes a new invite", async () => {
        const first = draft({ email: "again@example.com" });
        await store.createInvite(first);
        await store.deleteInvite("ns1", first.id);
        const second = draft({ email: "again@example.com" });
        await expect(store.createInvite(second)).resolves.toEqual({ invite: second, created: true });
      });

      test("answers a ping", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe("lifecycle", () => {
      test("accepting uses the invite once, records the acceptance, and ends a single-use invite", async () => {
        const invite = draft();
        await store.createInvite(invite);
        const at = later();
        const result = await accept(invite, "user-1", at);
        expect(result).toEqual({ kind: "changed", invite: { ...invite, state: "accepted", useCount: 1, acceptTime: at, updateTime: at } });
        await expect(store.listAcceptances("ns1", invite.id, 10)).resolves.toEqual({
          items: [{ inviteId: invite.id, userId: "user-1", email: invite.email, acceptTime: at }],
          next: undefined,
        });
      });

      test("the same user accepting again uses nothing", async () => {
        const invite = draft({ maxUses: 3 });
        await store.createInvite(invite);
        await accept(invite, "user-1");
        const again = await accept(invite, "user-1");
        expect(again).toMatchObject({ kind: "repeated", invite: { useCount: 1 } });
      });

      test("refuses a revoked, used-up or expired invite, or another email", async () => {
        const bound = draft();
        await store.createInvite(bound);
        await expect(accept(bound, "user-1", later(), "other@example.com")).resolves.toMatchObject({ kind: "refused", invite: { useCount: 0 } });
        await expect(accept(bound, "user-1", later(), "")).resolves.toMatchObject({ kind: "refused" });

        const expiring = draft({ expireTime: new Date(clock + hour) });
        await store.createInvite(expiring);
        await expect(accept(expiring, "user-1", new Date(clock + hour))).resolves.toMatchObject({ kind: "refused" });

        const usedUp = draft({ maxUses: 2, email: "" });
        await store.createInvite(usedUp);
        await accept(usedUp, "user-1", later(), "first@example.com");
        await expect(accept(usedUp, "user-2", later(), "")).resolves.toMatchObject({ kind: "changed", invite: { state: "accepted", useCount: 2 } });
        await expect(accept(usedUp, "user-3", later(), "")).resolves.toMatchObject({ kind: "refused", invite: { useCount: 2 } });

        const revoked = draft();
        await store.createInvite(revoked);
        await store.revokeInvite("ns1", revoked.id, later());
        await expect(accept(revoked, "user-1")).resolves.toMatchObject({ kind: "refused", invite: { state: "revoked" } });
        await expect(store.listAcceptances("ns1", revoked.id, 10)).resolves.toMatchObject({ items: [] });
      });

      test("concurrent accepts of a single-use invite: exactly one wins", async () => {
        const invite = draft({ email: "" });
        await store.createInvite(invite);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => accept(invite, `user-${i}`, later(), "")));
        expect(results.filter((r) => r.kind === "changed")).toHaveLength(1);
        expect(results.filter((r) => r.kind === "refused")).toHaveLength(49);
        await expect(store.findInviteById("ns1", invite.id)).resolves.toMatchObject({ useCount: 1, state: "accepted" });
      });

      test("concurrent accepts of a ten-use invite by fifty users: exactly ten win", async () => {
        const invite = draft({ email: "", maxUses: 10 });
        await store.createInvite(invite);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => accept(invite, `user-${i}`, later(), "")));
        expect(results.filter((r) => r.kind === "changed")).toHaveLength(10);
        await expect(store.findInviteById("ns1", invite.id)).resolves.toMatchObject({ useCount: 10, state: "accepted" });
        expect((await store.listAcceptances("ns1", invite.id, 100)).items).toHaveLength(10);
      });

      test("an unlimited invite keeps accepting and stays pending", async () => {
        const invite = draft({ email: "", maxUses: 0 });
        await store.createInvite(invite);
        for (let i = 0; i < 5; i++) await accept(invite, `user-${i}`, later(), "");
        await expect(store.findInviteById("ns1", invite.id)).resolves.toMatchObject({ useCount: 5, state: "pending" });
      });

      test("acceptances page oldest first", async () => {
        const invite = draft({ email: "", maxUses: 0 });
        await store.createInvite(invite);
        for (let i = 0; i < 5; i++) await accept(invite, `user-${i}`, later(i), "");
        const first = await store.listAcceptances("ns1", invite.id, 2);
        const second = await store.listAcceptances("ns1", invite.id, 2, first.next);
        const third = await store.listAcceptances("ns1", invite.id, 2, second.next);
        expect([...first.items, ...second.items, ...third.items].map((a) => a.userId)).toEqual(["user-0", "user-1", "user-2", "user-3", "user-4"]);
        expect(third.next).toBeUndefined();
      });

      test("revokes a pending invite once; a used-up one is refused", async () => {
        const invite = draft();
        await store.createInvite(invite);
        const at = later();
        await expect(store.revokeInvite("ns1", invite.id, at)).resolves.toEqual({
          kind: "changed",
          invite: { ...invite, state: "revoked", revokeTime: at, updateTime: at },
        });
        await expect(store.revokeInvite("ns1", invite.id, later())).resolves.toMatchObject({ kind: "refused", invite: { state: "revoked", revokeTime: at } });
        const used = draft();
        await store.createInvite(used);
        await accept(used, "user-1");
        await expect(store.revokeInvite("ns1", used.id, later())).resolves.toMatchObject({ kind: "refused", invite: { state: "accepted" } });
      });

      test("renews an expired invite with a new expiry and code", async () => {
        const invite = draft({ expireTime: new Date(clock + hour) });
        await store.createInvite(invite);
        const at = new Date(clock + 2 * hour);
        const result = await store.renewInvite({ namespace: "ns1", id: invite.id, expireTime: new Date(at.getTime() + hour), code: "NEWC0DE00000", now: at });
        expect(result).toMatchObject({ kind: "changed", invite: { state: "pending", code: "NEWC0DE00000", expireTime: new Date(at.getTime() + hour), updateTime: at } });
        await expect(store.findInviteByCode("ns1", invite.code)).resolves.toBeUndefined();
        await expect(accept({ ...invite, code: "NEWC0DE00000" }, "user-1", at)).resolves.toMatchObject({ kind: "changed" });
      });

      test("renewing can clear the expiry, and refuses revoked or used-up invites", async () => {
        const invite = draft();
        await store.createInvite(invite);
        const renewed = await store.renewInvite({ namespace: "ns1", id: invite.id, expireTime: undefined, now: later() });
        expect(renewed.kind === "changed" && renewed.invite.expireTime).toBeUndefined();
        await store.revokeInvite("ns1", invite.id, later());
        await expect(store.renewInvite({ namespace: "ns1", id: invite.id, expireTime: undefined, now: later() })).resolves.toMatchObject({ kind: "refused" });
      });

      test("a new create replaces an expired pending invite; renewing the old one then conflicts", async () => {
        const old = draft({ email: "again@example.com", expireTime: new Date(clock + hour) });
        await store.createInvite(old);
        const fresh = draft({ email: "again@example.com", createTime: new Date(clock + 2 * hour), updateTime: new Date(clock + 2 * hour) });
        await expect(store.createInvite(fresh)).resolves.toEqual({ invite: fresh, created: true });
        await expect(store.findInviteById("ns1", old.id)).resolves.toMatchObject({ state: "expired" });
        await expect(store.renewInvite({ namespace: "ns1", id: old.id, expireTime: undefined, now: later(3 * hour) })).rejects.toBeInstanceOf(PendingInviteExistsError);
        await expect(store.findInviteById("ns1", old.id)).resolves.toMatchObject({ state: "expired" });
      });

      test("a create that would replace an expired pending invite but clashes on its code leaves the old one as it was", async () => {
        const taken = draft();
        await store.createInvite(taken);
        const old = draft({ email: "clash@example.com", expireTime: new Date(clock + hour) });
        await store.createInvite(old);
        const at = new Date(clock + 2 * hour);
        const clashing = draft({ email: "clash@example.com", code: taken.code, createTime: at, updateTime: at });
        await expect(store.createInvite(clashing)).rejects.toBeInstanceOf(DuplicateCodeError);
        // Still pending as stored (expired only by its time), with its own update time.
        await expect(store.findInviteById("ns1", old.id)).resolves.toEqual(old);
        await expect(store.findInviteById("ns1", clashing.id)).resolves.toBeUndefined();
      });

      test("lists by state, judging expiry at the given time", async () => {
        const pending = draft({ expireTime: new Date(clock + 10 * hour) });
        const expiring = draft({ expireTime: new Date(clock + hour) });
        const accepted = draft();
        const revoked = draft();
        for (const invite of [pending, expiring, accepted, revoked]) await store.createInvite(invite);
        await accept(accepted, "user-1");
        await store.revokeInvite("ns1", revoked.id, later());
        const now = new Date(clock + 2 * hour);
        const ids = async (states: ListQuery["states"]) => (await list({ states, now })).map((i) => i.id);
        await expect(ids(["pending"])).resolves.toEqual([pending.id]);
        await expect(ids(["expired"])).resolves.toEqual([expiring.id]);
        await expect(ids(["accepted"])).resolves.toEqual([accepted.id]);
        await expect(ids(["revoked", "pending"])).resolves.toEqual([revoked.id, pending.id]);
      });

      test("purges invites finished before the cutoff, with their acceptances", async () => {
        const base = clock + 10_000;
        const keep = draft({ expireTime: new Date(base + 100 * hour) });
        const expired = draft({ expireTime: new Date(base + hour) });
        const accepted = draft();
        const revoked = draft();
        for (const invite of [keep, expired, accepted, revoked]) await store.createInvite(invite);
        await accept(accepted, "user-1", new Date(base + hour));
        await store.revokeInvite("ns1", revoked.id, new Date(base + hour));
        await expect(store.purgeInvites(new Date(base + hour))).resolves.toBe(0);
        await expect(store.purgeInvites(new Date(base + 2 * hour))).resolves.toBe(3);
        await expect(list({ now: new Date(base + 2 * hour) })).resolves.toEqual([keep]);
      });
    });

    test("closing lets the calls already made finish, then refuses calls as unavailable", async () => {
      const stored = draft();
      await store.createInvite(stored);
      const drafts = [draft(), draft(), draft()];
      const creates = drafts.map((invite) => store.createInvite(invite));
      const read = store.findInviteById("ns1", stored.id);
      const closed = store.close();
      await expect(Promise.all(creates)).resolves.toEqual(drafts.map((invite) => ({ invite, created: true })));
      await expect(read).resolves.toEqual(stored);
      await closed;
      await expect(store.createInvite(draft())).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.findInviteById("ns1", drafts[0].id)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.close()).resolves.toBeUndefined();
      const reopened = await factory.reopen();
      try {
        await expect(Promise.all(drafts.map((invite) => reopened.findInviteById("ns1", invite.id)))).resolves.toEqual(drafts);
      } finally {
        await reopened.close();
      }
    });
  });
}
