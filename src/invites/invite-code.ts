import { secureRandomBytes } from "./secure-random.js";

// Crockford base32: no I, L, O or U, so codes survive being read aloud or retyped.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** 12 characters of 5 bits: 60 bits from the CSPRNG. */
const inviteCodeLength = 12;

export function generateInviteCode(): string {
  const bytes = secureRandomBytes(inviteCodeLength);
  let code = "";
  for (const byte of bytes) code += alphabet[byte & 31];
  return code;
}

/**
 * The canonical form of a code a person typed: case, spaces and dashes are
 * ignored and Crockford's look-alikes (I, L → 1; O → 0) are folded. Returns
 * undefined when the result cannot be a code.
 */
export function normalizeInviteCode(typed: string): string | undefined {
  const code = typed
    .toUpperCase()
    .replace(/[\s-]/g, "")
    .replace(/[IL]/g, "1")
    .replace(/O/g, "0");
  if (code.length !== inviteCodeLength) return undefined;
  for (const char of code) if (!alphabet.includes(char)) return undefined;
  return code;
}
