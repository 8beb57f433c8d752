import { secureRandomBytes } from "./secure-random.js";

/**
 * A new invite id: a UUIDv7 (RFC 9562), 48 bits of milliseconds then 74
 * random bits. Ids made later sort later, so each insert lands at the end of
 * the id index instead of on a random page, which a commit must then write;
 * the time it shows is the invite's create_time, which clients see anyway.
 */
export function newInviteId(now = Date.now()): string {
  const bytes = secureRandomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
