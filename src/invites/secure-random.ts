import { randomFillSync } from "node:crypto";

// Each randomBytes() call costs a few microseconds of fixed overhead here;
// one fill of a pool serves hundreds of codes and ids (as Node's own
// randomUUID does). Bytes handed out are copied and never handed out again.
const pool = Buffer.alloc(4096);
let offset = pool.length;

/** `size` bytes from the CSPRNG. */
export function secureRandomBytes(size: number): Buffer {
  if (size > pool.length) return randomFillSync(Buffer.alloc(size));
  if (offset + size > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return bytes;
}
