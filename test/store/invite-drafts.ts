// Invites for the store tests, drafted with increasing create times, and the calls the store contract makes most.
import { randomUUID } from "node:crypto";
import { generateInviteCode } from "../../src/invites/invite-code.js";
import type { InviteRecord, InviteStore, ListQuery } from "../../src/store/store.js";

export const hour = 60 * 60 * 1000;
let clock = Date.parse("2026-01-01T00:00:00Z");
/** The create time of the last draft made. */
export const lastDraftTime = () => clock;
/** A time after every draft made so far. */
export const later = (ms = 0) => new Date(clock + 1000 + ms);

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

/** The calls the contract's tests make most, on the store `current` returns when called. */
export function contractCalls(current: () => InviteStore) {
  return {
    list: async (query: Partial<ListQuery> = {}) =>
      (await current().listInvites({ namespace: "ns1", limit: 100, now: later(), ...query })).items,
    accept: (invite: InviteRecord, userId: string, now = later(), email = invite.email) =>
      current().acceptInvite({ namespace: invite.namespace, code: invite.code, userId, email, now }),
  };
}
