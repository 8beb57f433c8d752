import { DuplicateCodeError, type InviteStore } from "../../src/store/store.js";
import { contractCalls, draft, lastDraftTime, later } from "./invite-drafts.js";

/** The store contract: creating, finding, listing and deleting invites. */
export function describeRecords(current: () => InviteStore): void {
  describe("create, read, list, delete", () => {
    let store: InviteStore;
    beforeEach(() => {
      store = current();
    });
    const { list, accept } = contractCalls(() => store);

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
      const a = draft();
      const [clash, c] = [draft({ code: a.code }), draft()];
      const results = await Promise.allSettled([a, clash, c].map((invite) => store.createInvite(invite)));
      // Which of the two same-code Creates commits first is the database's to decide (a pool runs them on separate connections).
      const winner = results[0].status === "fulfilled" ? 0 : 1;
      const [kept, lost] = winner === 0 ? [a, clash] : [clash, a];
      expect(results.map((r) => r.status)).toEqual(winner === 0 ? ["fulfilled", "rejected", "fulfilled"] : ["rejected", "fulfilled", "fulfilled"]);
      expect((results[1 - winner] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateCodeError);
      await expect(list()).resolves.toEqual([c, kept]);
      await expect(store.findInviteById("ns1", lost.id)).resolves.toBeUndefined();
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
      const createTime = new Date(lastDraftTime() + 500);
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
}
