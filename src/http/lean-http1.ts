import { STATUS_CODES, maxHeaderSize, type IncomingHttpHeaders } from "node:http";
import type * as net from "node:net";
import type { CallRecord } from "../observability/call-record.js";
import type { Observation, Protocol, RequestObserver } from "../observability/request-observer.js";
import { LazyAbort } from "./lean-call.js";
import type { Http1Respond, LeanUnary } from "./lean-unary.js";
import type { M3oLean } from "./m3o.js";

export interface LeanHttp1Options {
  lean: LeanUnary;
  /** The M3O paths' calls the lean path serves. */
  m3o: M3oLean;
  observer: RequestObserver;
  /** An idle connection is closed after this long, as Node's keepAliveTimeout does. */
  keepAliveMs: number;
}

/** An HTTP/1.1 connection while the lean reader still holds it. */
export interface LeanHttp1Connection {
  /** Ends the connection if no call is in flight or waiting to be read. */
  closeIfIdle(): void;
}

export interface Http1Handling {
  /**
   * Gives the connection back to Node's HTTP/1.1 server, with the bytes
   * read but not served, to serve from then on.
   */
  handOver(unread: Buffer | undefined): void;
  /** Whether the server is draining: each answer then closes its connection, as Node's server does. */
  draining(): boolean;
}

// What a request may not carry to be served here: each changes how the
// message is framed or answered (CORS), and Node's server knows them all.
const declinedFields = new Set(["transfer-encoding", "expect", "upgrade", "origin", "te", "trailer", "proxy-connection"]);
const headTerminator = Buffer.from("\r\n\r\n");
const contentLength = /^(?:0|[1-9][0-9]{0,8})$/;

/**
 * A reader of HTTP/1.1 for the lean path's Connect and M3O calls, in place
 * of Node's request and response objects, which cost about 30 % of a JSON
 * Read's CPU. It serves only requests it can read whole from what has
 * arrived, framed by Content-Length and shaped as every Connect client
 * sends them; at the first request that is anything else (another path or
 * method, a request split across reads, chunked, CORS, a header it does not
 * know how to judge) it hands the connection, with every byte not yet
 * served, to Node's HTTP/1.1 server for good, so Node answers it as it
 * always did.
 */
export function createLeanHttp1({ lean, m3o, observer, keepAliveMs }: LeanHttp1Options) {
  const keepAliveFields = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(keepAliveMs / 1000)}\r\n\r\n`;

  return function take(socket: net.Socket, { handOver, draining }: Http1Handling): LeanHttp1Connection {
    let unread: Buffer | undefined;
    let inFlight: { cancel: LazyAbort; observation: Observation; record: CallRecord } | undefined;
    let awaitingDrain = false;

    const onData = (chunk: Buffer) => {
      // Once the answer that closes the connection is written, what follows is never read.
      if (socket.writableEnded) return;
      unread = unread ? Buffer.concat([unread, chunk]) : chunk;
      // One call at a time: what a client sends ahead waits in the kernel's buffers, not in ours.
      if (inFlight || awaitingDrain) socket.pause();
      serveNext();
    };
    const onClose = () => {
      if (!inFlight) return;
      inFlight.cancel.abort();
      inFlight.observation.end(200, false, inFlight.record);
      inFlight = undefined;
    };
    const onTimeout = () => {
      if (!inFlight) socket.destroy();
    };
    const onError = () => socket.destroy();
    socket.on("data", onData).on("close", onClose).on("timeout", onTimeout).on("error", onError);
    socket.setTimeout(keepAliveMs);

    function giveUp() {
      socket.off("data", onData).off("close", onClose).off("timeout", onTimeout).off("error", onError);
      socket.setTimeout(0);
      const rest = unread;
      unread = undefined;
      handOver(rest);
    }

    function serveNext() {
      if (inFlight || awaitingDrain || socket.writableEnded || socket.destroyed) return;
      if (socket.writableNeedDrain) {
        // A client that does not read its answers is not read either, as Node's server does.
        awaitingDrain = true;
        socket.pause();
        socket.once("drain", () => {
          awaitingDrain = false;
          serveNext();
        });
        return;
      }
      if (!unread) {
        if (socket.isPaused()) socket.resume();
        return;
      }
      const request = readRequest(unread, lean.maxBodyBytes);
      if (!request) return giveUp();
      const { path, headers, bodyStart, bodyEnd } = request;
      const body = unread.subarray(bodyStart, bodyEnd);
      const record: CallRecord = {};
      const cancel = new LazyAbort();
      let observation: Observation | undefined;
      const respond: Http1Respond = (status, head, answer) => {
        if (inFlight?.cancel !== cancel) return;
        inFlight = undefined;
        const closing = draining();
        let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "unknown"}\r\n`;
        for (const name in head) text += `${name}: ${head[name]}\r\n`;
        text += `x-request-id: ${observation!.requestId}\r\ndate: ${httpDate()}\r\n`;
        text += closing ? "connection: close\r\n\r\n" : keepAliveFields;
        const done = (err?: Error | null) => observation!.end(status, !err, record);
        if (typeof answer === "string") {
          socket.write(text + answer, done);
        } else {
          socket.cork();
          socket.write(text, "latin1");
          socket.write(answer, done);
          socket.uncork();
        }
        // As Node's server closes: after the answer, whether or not the client reads on.
        if (closing) socket.destroySoon();
        else serveNext();
      };
      let protocol: Protocol = "connect";
      if (!lean.http1("POST", path, headers, () => body, record, cancel, respond)) {
        if (!m3o(path, headers, body, record, cancel, respond)) return giveUp();
        protocol = "m3o";
      }
      const sent = headers["x-request-id"];
      observation = observer.begin(typeof sent === "string" ? sent : undefined, protocol, path);
      inFlight = { cancel, observation, record };
      unread = bodyEnd < unread.length ? unread.subarray(bodyEnd) : undefined;
    }

    return {
      closeIfIdle() {
        if (!inFlight && !unread) socket.destroySoon();
      },
    };
  };
}

export type LeanHttp1 = ReturnType<typeof createLeanHttp1>;

interface ReadRequest {
  path: string;
  headers: IncomingHttpHeaders;
  bodyStart: number;
  bodyEnd: number;
}

/** The first request in `bytes` if it is whole and of the shape served here; else undefined. */
function readRequest(bytes: Buffer, maxBodyBytes: number): ReadRequest | undefined {
  const headEnd = bytes.indexOf(headTerminator);
  // Node's server answers a head over its limit with 431.
  if (headEnd < 0 || headEnd > maxHeaderSize) return undefined;
  const head = bytes.toString("latin1", 0, headEnd);
  let lineEnd = head.indexOf("\r\n");
  if (lineEnd < 0 || !head.startsWith("POST /") || !head.startsWith(" HTTP/1.1", lineEnd - 9)) return undefined;
  // Whatever it holds, it is served only if it is exactly one of the service's paths.
  const path = head.slice(5, lineEnd - 9);
  // A plain object, as Node's own request headers are.
  const headers: IncomingHttpHeaders = {};
  for (let at = lineEnd + 2; at < head.length; at = lineEnd + 2) {
    lineEnd = head.indexOf("\r\n", at);
    if (lineEnd < 0) lineEnd = head.length;
    const field = readField(head, at, lineEnd);
    if (!field) return undefined;
    const name = field[0].toLowerCase();
    // `in` also refuses names on Object's prototype, such as constructor.
    if (name in headers || declinedFields.has(name)) return undefined;
    headers[name] = field[1];
  }
  const length = headers["content-length"];
  if (headers.host === undefined || length === undefined || !contentLength.test(length)) return undefined;
  const connection = headers.connection;
  if (connection !== undefined && connection.toLowerCase() !== "keep-alive") return undefined;
  const bodyStart = headEnd + 4;
  const bodyEnd = bodyStart + Number(length);
  // Node's server refuses a body too large in the service's own words.
  if (bodyEnd - bodyStart > maxBodyBytes || bodyEnd > bytes.length) return undefined;
  return { path, headers, bodyStart, bodyEnd };
}

/**
 * A field line's name and value: the name RFC 9110's token right before the
 * colon, the value without the spaces and tabs around it, and free of
 * control characters other than tab (obs-text is kept, as Node keeps it).
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
  return [head.slice(start, colon), head.slice(from, to)];
}

const tokenChars = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") tokenChars[c.charCodeAt(0)] = 1;
const isTokenChar = (c: number) => c < 128 && tokenChars[c] === 1;
const isBlank = (c: number) => c === 0x20 || c === 0x09;

let dateSecond = -1;
let dateText = "";

/** The Date field, made once a second. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
