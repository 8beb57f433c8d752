import { generateInviteCode, normalizeInviteCode } from "../../src/invites/invite-code.js";

test("codes are 12 Crockford base32 characters using the whole alphabet", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const code = generateInviteCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
    for (const char of code) seen.add(char);
  }
  expect(seen.size).toBe(32);
});

test("normalising folds what a person might type", () => {
  expect(normalizeInviteCode("abcd-efgh-jkmn")).toBe("ABCDEFGHJKMN");
  expect(normalizeInviteCode(" ab cd ef gh jk mn ")).toBe("ABCDEFGHJKMN");
  expect(normalizeInviteCode("OIL0il0OIL0o")).toBe("011011001100");
});

test("normalising refuses what cannot be a code", () => {
  expect(normalizeInviteCode("ABCDEFGHJKM")).toBeUndefined();
  expect(normalizeInviteCode("ABCDEFGHJKMNP")).toBeUndefined();
  expect(normalizeInviteCode("ABCDEFGHJKMU")).toBeUndefined();
  expect(normalizeInviteCode("ABCDEFGHJKM!")).toBeUndefined();
});
