import { randomUUID } from "node:crypto";
import { generateInviteCode } from "../../src/invites/invite-code.js";
import { DuplicateCodeError, type InviteRecord, type InviteStore, type ListQuery } from "../../src/store/store.js";

export interface StoreFactory {
  open(): Promise<InviteStore>;
  /** Removes what open() made. */
  cleanup(): Promise<void>;
}

let clock = Date.parse("2026-01-01T00:00:00Z");

export function draft(overrides: Partial<InviteRecord> = {}): InviteRecord {
  clock += 1000;
  return {
    id: randomUUID(),
    namespace: "ns1",
    groupId: "group-a",
    email: `${randomUUID().slice(0, 8)}@example.com`,
    code: generateInviteCode(),
    createTime: new Date(clock),
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

    test("creates and finds an invite by id and by code", async () => {
      const invite = draft();
      await expect(store.createInvite(invite)).resolves.toEqual({ invite, created: true });
      await expect(store.findInviteById("ns1", invite.id)).resolves.toEqual(invite);
      await expect(store.findInviteByCode("ns1", invite.code)).resolves.toEqual(invite);
    });

    test("returns the existing pending invite for the same namespace, group and email", async () => {
      const first = draft({ email: "same@example.com" });
      await store.createInvite(first);
      const second = await store.createInvite(draft({ email: "same@example.com" }));
      expect(second).toEqual({ invite: first, created: false });
      await expect(store.listInvites({ namespace: "ns1", limit: 10 })).resolves.toEqual({ invites: [first], next: undefined });
    });

    test("concurrent creates for one email and group make one invite", async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => store.createInvite(draft({ email: "race@example.com" }))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.invite.id)).size).toBe(1);
    });

    test("the same email in another group or namespace is another invite", async () => {
      const base = draft({ email: "x@example.com" });
      await store.createInvite(base);
      await expect(store.createInvite(draft({ email: "x@example.com", groupId: "group-b" }))).resolves.toMatchObject({ created: true });
      await expect(store.createInvite(draft({ email: "x@example.com", namespace: "ns2" }))).resolves.toMatchObject({ created: true });
    });

    test("refuses a code that is already taken, in any namespace", async () => {
      const first = draft();
      await store.createInvite(first);
      await expect(store.createInvite(draft({ code: first.code, namespace: "ns2" }))).rejects.toBeInstanceOf(DuplicateCodeError);
      await expect(store.findInviteByCode("ns2", first.code)).resolves.toBeUndefined();
    });

    test("never shows one namespace's invites to another", async () => {
      const invite = draft();
      await store.createInvite(invite);
      await expect(store.findInviteById("ns2", invite.id)).resolves.toBeUndefined();
      await expect(store.findInviteByCode("ns2", invite.code)).resolves.toBeUndefined();
      await expect(store.listInvites({ namespace: "ns2", limit: 10 })).resolves.toEqual({ invites: [], next: undefined });
      await expect(store.deleteInvite("ns2", invite.id)).resolves.toBe(false);
      await expect(store.findInviteById("ns1", invite.id)).resolves.toEqual(invite);
    });

    test("lists newest first with filters and keyset pages", async () => {
      const a1 = draft({ groupId: "a", email: "one@example.com" });
      const a2 = draft({ groupId: "a", email: "two@example.com" });
      const b1 = draft({ groupId: "b", email: "one@example.com" });
      for (const invite of [a1, a2, b1]) await store.createInvite(invite);
      const list = async (query: Omit<ListQuery, "namespace" | "limit"> & { limit?: number }) =>
        (await store.listInvites({ namespace: "ns1", limit: 10, ...query })).invites;
      await expect(list({})).resolves.toEqual([b1, a2, a1]);
      await expect(list({ groupId: "a" })).resolves.toEqual([a2, a1]);
      await expect(list({ email: "one@example.com" })).resolves.toEqual([b1, a1]);
      await expect(list({ groupId: "b", email: "one@example.com" })).resolves.toEqual([b1]);
      const firstPage = await store.listInvites({ namespace: "ns1", limit: 2 });
      expect(firstPage.invites).toEqual([b1, a2]);
      expect(firstPage.next).toBeDefined();
      const secondPage = await store.listInvites({ namespace: "ns1", limit: 2, after: firstPage.next });
      expect(secondPage).toEqual({ invites: [a1], next: undefined });
    });

    test("orders invites created in the same millisecond by insertion", async () => {
      const createTime = new Date(clock + 500);
      const invites = [draft({ createTime }), draft({ createTime }), draft({ createTime })];
      for (const invite of invites) await store.createInvite(invite);
      const first = await store.listInvites({ namespace: "ns1", limit: 1 });
      const rest = await store.listInvites({ namespace: "ns1", limit: 5, after: first.next });
      expect([...first.invites, ...rest.invites]).toEqual([...invites].reverse());
    });

    test("deletes, and deleting again reports nothing removed", async () => {
      const invite = draft();
      await store.createInvite(invite);
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
