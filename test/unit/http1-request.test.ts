import { readRequest } from "../../src/http/http1-request.js";

// The HTTP/1.1 reader's head parsing on its own: field names come out
// lower-case whichever way they are written, common names (matched in place)
// and others alike, and a name given twice or declined leaves the request to
// Node's server, in any case.

const request = (fields: string[]) => Buffer.from(["POST /p HTTP/1.1", "Host: h", "Content-Length: 0", ...fields].join("\r\n") + "\r\n\r\n", "latin1");
const headersOf = (fields: string[]) => {
  const read = readRequest(request(fields), 1024);
  if (read === undefined || read === "partial") throw new Error(`not read: ${JSON.stringify(fields)}`);
  return read.headers;
};

// Common names, and names a letter or a punctuation mark away from one, of the same length.
const names = [
  "content-type", "authorization", "user-agent", "origin", "accept-language", "sec-ch-ua-platform", "connect-timeout-ms",
  "content_type", "content-typf", "authorisation", "user_agent", "origi^", "accept-languag3", "sec-ch-ua-platfor_",
  "x-custom", "x-b3-traceid", "a", "Z9!#$%&'*+.^_`|~",
];

// A small deterministic generator, so that a failure names the same cases again.
function caseMixer(seed: number) {
  let state = seed;
  return (text: string) =>
    [...text]
      .map((char) => {
        state = (state * 1103515245 + 12345) >>> 0;
        return (state >>> 16) & 1 ? char.toUpperCase() : char.toLowerCase();
      })
      .join("");
}

test("reads field names in any case as lower-case keys, common names and others alike", () => {
  const mix = caseMixer(7);
  for (let round = 0; round < 50; round++) {
    const written = names.map(mix);
    const headers = headersOf(written.map((name, i) => `${name}: v${i}`));
    const expected = Object.fromEntries([["host", "h"], ["content-length", "0"], ...written.map((name, i) => [name.toLowerCase(), `v${i}`])]);
    expect(headers).toEqual(expected);
  }
});

test.each([
  ["Origin", "oRIGIN"],
  ["Content-Type", "CONTENT-TYPE"],
  ["X-Custom", "x-cUSTOM"],
])("leaves a request naming a field twice to Node: %s and %s", (first, second) => {
  expect(readRequest(request([`${first}: a`]), 1024)).not.toBeUndefined();
  expect(readRequest(request([`${first}: a`, `${second}: b`]), 1024)).toBeUndefined();
});

test.each(["Transfer-Encoding: chunked", "EXPECT: 100-continue", "upgrade: h2c", "Te: trailers", "TRAILER: x", "Proxy-Connection: keep-alive"])(
  "leaves a request with a declined field to Node, in any case: %s",
  (line) => {
    expect(readRequest(request([line]), 1024)).toBeUndefined();
  },
);

test("reads a GET with its target whole, query included, and no body", () => {
  const bytes = Buffer.from("GET /p?encoding=json&message=%7B%7D HTTP/1.1\r\nHost: h\r\n\r\nnext", "latin1");
  expect(readRequest(bytes, 1024)).toMatchObject({ method: "GET", target: "/p?encoding=json&message=%7B%7D", keepAlive: true, bodyStart: bytes.length - 4, bodyEnd: bytes.length - 4 });
  expect(readRequest(Buffer.from("GET /p?q HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), 1024)).toMatchObject({ method: "GET" });
  expect(readRequest(Buffer.from("GET /p?q HT"), 1024)).toBe("partial");
});

test("leaves a GET with a body, and other methods, to Node", () => {
  expect(readRequest(Buffer.from("GET /p?q HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}"), 1024)).toBeUndefined();
  expect(readRequest(Buffer.from("PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), 1024)).toBeUndefined();
  expect(readRequest(Buffer.from("HEAD /p HT"), 1024)).toBeUndefined();
});
