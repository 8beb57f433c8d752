import { jsonString } from "../../src/codec/json-string.js";

test("every UTF-16 code unit alone, and in pairs, is written as JSON.stringify writes it", () => {
  for (let c = 0; c <= 0xffff; c++) {
    const text = `a${String.fromCharCode(c)}b`;
    expect(jsonString(text)).toBe(JSON.stringify(text));
  }
  for (const text of ["", "😀", "\ud83d\ude00\ud83d", "\ude00\ud83d", "RYG1G73XEDNX", "user@example.com"]) {
    expect(jsonString(text)).toBe(JSON.stringify(text));
  }
});
