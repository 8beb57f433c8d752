import { newInviteId } from "../../src/invites/invite-id.js";

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("is a UUIDv7 whose first 48 bits are the time in milliseconds", () => {
  const at = Date.UTC(2026, 10, 27, 15, 0, 0, 123);
  const id = newInviteId(at);
  expect(id).toMatch(uuidV7);
  expect(parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at);
});

test("later ids sort later, and ids of one millisecond still differ", () => {
  const at = Date.now();
  expect(newInviteId(at) < newInviteId(at + 1)).toBe(true);
  const many = Array.from({ length: 10_000 }, () => newInviteId(at));
  expect(new Set(many).size).toBe(many.length);
  for (const id of many) expect(id).toMatch(uuidV7);
});
