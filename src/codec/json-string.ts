/**
 * Whether JSON needs more than quotes around `value`: controls, quote and
 * backslash are escaped, and so are surrogates if lone. Most strings here
 * (ids, codes, emails, names) need nothing, and for them this scan is
 * cheaper than JSON.stringify, which costs a call into V8's runtime.
 */
export function needsEscape(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/** A string as JSON, the same text JSON.stringify gives. */
export function jsonString(value: string): string {
  return needsEscape(value) ? JSON.stringify(value) : `"${value}"`;
}
