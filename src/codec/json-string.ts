/**
 * A string as JSON, the same text JSON.stringify gives. Most strings here
 * (ids, codes, emails, names) need no escape, and for them a scan is cheaper
 * than the builtin, which costs a call into V8's runtime each time.
 */
export function jsonString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // Controls, quote and backslash are escaped; surrogates, if lone, too.
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(value);
  }
  return `"${value}"`;
}
