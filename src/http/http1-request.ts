import { maxHeaderSize, type IncomingHttpHeaders } from "node:http";

// What a request may not carry to be served here: each changes how the
// message is framed or answered, and Node's server knows them all.
const declinedFields = new Set(["transfer-encoding", "expect", "upgrade", "te", "trailer", "proxy-connection"]);
const headTerminator = Buffer.from("\r\n\r\n");
const contentLength = /^(?:0|[1-9][0-9]{0,8})$/;

/** A request the lean HTTP/1.1 reader may serve, read from the start of what has arrived. */
export interface Http1Request {
  method: "POST" | "GET" | "OPTIONS";
  /** The request target as sent: the path and any query. */
  target: string;
  /** Whether the connection stays open after the answer: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`. */
  keepAlive: boolean;
  headers: IncomingHttpHeaders;
  bodyStart: number;
  bodyEnd: number;
}

const requestLineStarts = ["POST /", "GET /", "OPTIONS /"];

/**
 * The first request in `bytes` if its head is whole and of a shape served
 * here (its body may be still to come: `bodyEnd` past the bytes' end);
 * "partial" while its head is not whole and may yet be; else undefined.
 */
export function readRequest(bytes: Buffer, maxBodyBytes: number): Http1Request | "partial" | undefined {
  const headEnd = bytes.indexOf(headTerminator);
  // Node's server answers a head over its limit with 431.
  if (headEnd > maxHeaderSize || (headEnd < 0 && bytes.length > maxHeaderSize)) return undefined;
  if (headEnd < 0) {
    const mayBeServed = requestLineStarts.some((start) => start.startsWith(bytes.toString("latin1", 0, start.length)));
    return mayBeServed ? "partial" : undefined;
  }
  const head = bytes.toString("latin1", 0, headEnd);
  let lineEnd = head.indexOf("\r\n");
  const method = head.startsWith("POST /") ? "POST" : head.startsWith("GET /") ? "GET" : head.startsWith("OPTIONS /") ? "OPTIONS" : undefined;
  if (lineEnd < 0 || !method || !(head.startsWith(" HTTP/1.1", lineEnd - 9) || head.startsWith(" HTTP/1.0", lineEnd - 9))) return undefined;
  const http11 = head.charCodeAt(lineEnd - 1) === 0x31;
  // Whatever it holds, it is served only if its path is exactly one of the service's.
  const target = head.slice(method.length + 1, lineEnd - 9);
  // A plain object, as Node's own request headers are.
  const headers: IncomingHttpHeaders = {};
  for (let at = lineEnd + 2; at < head.length; at = lineEnd + 2) {
    lineEnd = head.indexOf("\r\n", at);
    if (lineEnd < 0) lineEnd = head.length;
    const field = readField(head, at, lineEnd);
    if (!field) return undefined;
    const [name, value] = field;
    // `in` also refuses names on Object's prototype, such as constructor.
    if (name in headers || declinedFields.has(name)) return undefined;
    headers[name] = value;
  }
  const length = headers["content-length"];
  if (headers.host === undefined) return undefined;
  // A call's body is framed by Content-Length; a GET and a preflight have none.
  if (method === "POST" ? length === undefined || !contentLength.test(length) : length !== undefined && length !== "0") return undefined;
  // Other options (upgrade, TE, several at once) are Node's server's to judge.
  const connection = headers.connection?.toLowerCase();
  if (connection !== undefined && connection !== "keep-alive" && connection !== "close") return undefined;
  const keepAlive = connection === undefined ? http11 : connection === "keep-alive";
  const bodyStart = headEnd + 4;
  const bodyEnd = bodyStart + Number(length ?? 0);
  // Node's server refuses a body too large in the service's own words.
  if (bodyEnd - bodyStart > maxBodyBytes) return undefined;
  // An Origin is echoed in the answer's CORS fields, whose text is written as UTF-8 here and as latin1 by Node.
  if (headers.origin !== undefined && !isAscii(headers.origin)) return undefined;
  return { method, target, keepAlive, headers, bodyStart, bodyEnd };
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * A field line's name, lower-case, and value: the name RFC 9110's token right
 * before the colon, the value without the spaces and tabs around it, and free
 * of control characters other than tab (obs-text is kept, as Node keeps it).
 */
function readField(head: string, start: number, end: number): [string, string] | undefined {
  let colon = start;
  while (colon < end && isTokenChar(head.charCodeAt(colon))) colon++;
  if (colon === start || colon === end || head.charCodeAt(colon) !== 0x3a) return undefined;
  let from = colon + 1;
  let to = end;
  while (from < to && isBlank(head.charCodeAt(from))) from++;
  while (to > from && isBlank(head.charCodeAt(to - 1))) to--;
  for (let i = from; i < to; i++) {
    const c = head.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
  }
  return [fieldName(head, start, colon), head.slice(from, to)];
}

// Names that requests commonly carry, by length. One of them matched where it
// stands makes no new string to lower-case, hash and intern as a property
// key: a Chrome-shaped head of 17 fields is read in 4.1–4.3 µs instead of
// 5.5–5.6, wrk's of 4 in 1.2 instead of 1.6–1.7 (300,000 reads, 3 runs each).
const commonNames: (string[] | undefined)[] = [];
for (const name of [
  "host", "connection", "content-length", "content-type", "content-encoding", "accept", "accept-encoding", "accept-language",
  "authorization", "user-agent", "origin", "referer", "cookie", "cache-control", "pragma", "priority", "dnt",
  "connect-protocol-version", "connect-timeout-ms", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-real-ip",
  "forwarded", "via", "traceparent", "tracestate", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform",
  "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "access-control-request-method", "access-control-request-headers",
  ...declinedFields,
]) {
  (commonNames[name.length] ??= []).push(name);
}

/** The token `head[start, end)` in lower case. */
function fieldName(head: string, start: number, end: number): string {
  const candidates = commonNames[end - start];
  if (candidates) for (const name of candidates) if (spells(head, start, name)) return name;
  return head.slice(start, end).toLowerCase();
}

/** Whether the token at `start` is `lower` in any case. */
function spells(head: string, start: number, lower: string): boolean {
  // Setting bit 0x20 lowers A to Z, and turns no other token character into a letter, digit or dash.
  for (let i = 0; i < lower.length; i++) if ((head.charCodeAt(start + i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

const tokenChars = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") tokenChars[c.charCodeAt(0)] = 1;
const isTokenChar = (c: number) => c < 128 && tokenChars[c] === 1;
const isBlank = (c: number) => c === 0x20 || c === 0x09;

