import { DuplicateCodeError, PendingInviteExistsError, type InviteStore, type ListQuery } from "../../src/store/store.js";
import { contractCalls, draft, hour, lastDraftTime, later } from "./invite-drafts.js";

/** The store contract: accepting, revoking, renewing, expiring and purging invites. */
export function describeLifecycle(current: () => InviteStore): void {
  describe("lifecycle", () => {
    let store: InviteStore;
    beforeEach(() => {
      store = current();
    });
    const { list, accept } = contractCalls(() => store);

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

      const expiring = draft({ expireTime: new Date(lastDraftTime() + hour) });
      await store.createInvite(expiring);
      await expect(accept(expiring, "user-1", new Date(lastDraftTime() + hour))).resolves.toMatchObject({ kind: "refused" });

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
      const invite = draft({ expireTime: new Date(lastDraftTime() + hour) });
      await store.createInvite(invite);
      const at = new Date(lastDraftTime() + 2 * hour);
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
      const old = draft({ email: "again@example.com", expireTime: new Date(lastDraftTime() + hour) });
      await store.createInvite(old);
      const fresh = draft({ email: "again@example.com", createTime: new Date(lastDraftTime() + 2 * hour), updateTime: new Date(lastDraftTime() + 2 * hour) });
      await expect(store.createInvite(fresh)).resolves.toEqual({ invite: fresh, created: true });
      await expect(store.findInviteById("ns1", old.id)).resolves.toMatchObject({ state: "expired" });
      await expect(store.renewInvite({ namespace: "ns1", id: old.id, expireTime: undefined, now: later(3 * hour) })).rejects.toBeInstanceOf(PendingInviteExistsError);
      await expect(store.findInviteById("ns1", old.id)).resolves.toMatchObject({ state: "expired" });
    });

    test("a create that would replace an expired pending invite but clashes on its code leaves the old one as it was", async () => {
      const taken = draft();
      await store.createInvite(taken);
      const old = draft({ email: "clash@example.com", expireTime: new Date(lastDraftTime() + hour) });
      await store.createInvite(old);
      const at = new Date(lastDraftTime() + 2 * hour);
      const clashing = draft({ email: "clash@example.com", code: taken.code, createTime: at, updateTime: at });
      await expect(store.createInvite(clashing)).rejects.toBeInstanceOf(DuplicateCodeError);
      // Still pending as stored (expired only by its time), with its own update time.
      await expect(store.findInviteById("ns1", old.id)).resolves.toEqual(old);
      await expect(store.findInviteById("ns1", clashing.id)).resolves.toBeUndefined();
    });

    test("lists by state, judging expiry at the given time", async () => {
      const pending = draft({ expireTime: new Date(lastDraftTime() + 10 * hour) });
      const expiring = draft({ expireTime: new Date(lastDraftTime() + hour) });
      const accepted = draft();
      const revoked = draft();
      for (const invite of [pending, expiring, accepted, revoked]) await store.createInvite(invite);
      await accept(accepted, "user-1");
      await store.revokeInvite("ns1", revoked.id, later());
      const now = new Date(lastDraftTime() + 2 * hour);
      const ids = async (states: ListQuery["states"]) => (await list({ states, now })).map((i) => i.id);
      await expect(ids(["pending"])).resolves.toEqual([pending.id]);
      await expect(ids(["expired"])).resolves.toEqual([expiring.id]);
      await expect(ids(["accepted"])).resolves.toEqual([accepted.id]);
      await expect(ids(["revoked", "pending"])).resolves.toEqual([revoked.id, pending.id]);
    });

    test("purges invites finished before the cutoff, with their acceptances", async () => {
      const base = lastDraftTime() + 10_000;
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
}
