import { secureRandomBytes } from "../../src/invites/secure-random.js";

test("bytes handed out do not change when the pool is refilled", () => {
  const first = secureRandomBytes(16);
  const copy = Buffer.from(first);
  for (let i = 0; i < 1000; i++) secureRandomBytes(16);
  expect(first).toEqual(copy);
});

test("no two draws repeat, across many refills of the pool", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) seen.add(secureRandomBytes(12).toString("hex"));
  expect(seen.size).toBe(5000);
});

test("every byte value turns up, and draws larger than the pool work", () => {
  const big = secureRandomBytes(10_000);
  expect(big).toHaveLength(10_000);
  expect(new Set(big).size).toBe(256);
});
