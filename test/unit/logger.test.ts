import { batchLines, createLogger, safeErrorMessage } from "../../src/logger.js";

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

test("fields are written as JSON.stringify writes them, whatever they hold", () => {
  const lines: string[] = [];
  const fields = {
    plain: "invites.v1.InvitesService/Read",
    escaped: 'quote " backslash \\ newline \n tab \t nul \u0000',
    lone: "half \ud800 a pair",
    pair: "emoji 😀 and é",
    whole: 200,
    fraction: 0.123,
    infinite: Number.POSITIVE_INFINITY,
    missing: undefined,
    nothing: null,
    flag: false,
    nested: { list: [1, "two"] },
    when: new Date(0),
    'odd "name"': 1,
  };
  createLogger("info", { write: (line: string) => lines.push(line) }).info('done "now"', fields);
  expect(lines[0]).toBe(`${JSON.stringify({ level: "info", time: JSON.parse(lines[0]).time, ...fields, msg: 'done "now"' })}\n`);
});

test("fields cannot replace the level, the time or the message", () => {
  const lines: string[] = [];
  createLogger("info", { write: (line: string) => lines.push(line) }).warn("real", { level: "debug", time: "then", msg: "fake" });
  expect(JSON.parse(lines[0])).toEqual({ level: "warn", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), msg: "real" });
});

describe("lines in batches", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test("lines written within the wait go out together, once, after it", () => {
    const chunks: string[] = [];
    const lines = batchLines((chunk) => chunks.push(chunk), { flushAfterMs: 100 });
    lines.write("a\n");
    jest.advanceTimersByTime(60);
    lines.write("b\n");
    lines.write("c\n");
    jest.advanceTimersByTime(39);
    expect(chunks).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(chunks).toEqual(["a\nb\nc\n"]);
    lines.write("d\n");
    jest.advanceTimersByTime(1000);
    expect(chunks).toEqual(["a\nb\nc\n", "d\n"]);
  });

  test("a batch that reaches the size limit goes out at once; flush() writes what waits and nothing later", () => {
    const chunks: string[] = [];
    const lines = batchLines((chunk) => chunks.push(chunk), { flushAfterMs: 100, maxPendingChars: 10 });
    lines.write("12345\n");
    lines.write("67890\n");
    expect(chunks).toEqual(["12345\n67890\n"]);
    lines.write("tail\n");
    lines.flush();
    expect(chunks).toEqual(["12345\n67890\n", "tail\n"]);
    jest.advanceTimersByTime(1000);
    expect(chunks).toHaveLength(2);
  });
});
