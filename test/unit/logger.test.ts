import { createLogger, safeErrorMessage } from "../../src/logger.js";

test("error messages lose their quoted values, which may be input", () => {
  const err = new Error(`invalid input syntax for type uuid: "7KJ4Q2M9XC1T" near 'secret'`);
  expect(safeErrorMessage(err)).toBe(`invalid input syntax for type uuid: "…" near '…'`);
});

test("lines are JSON with a named level, an ISO time and the message last", () => {
  const lines: string[] = [];
  createLogger("info", { write: (line: string) => lines.push(line) }).info("hello", { n: 1 });
  createLogger("warn", { write: (line: string) => lines.push(line) }).info("dropped");
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0])).toEqual({ level: "info", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), n: 1, msg: "hello" });
});
