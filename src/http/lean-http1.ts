import { STATUS_CODES, type IncomingHttpHeaders } from "node:http";
import type * as net from "node:net";
import type { CallRecord } from "../observability/call-record.js";
import type { Observation, RequestObserver } from "../observability/request-observer.js";
import type { CorsPolicy } from "./cors.js";
import { readRequest } from "./http1-request.js";
import { LazyAbort } from "./lean-call.js";
import type { Http1Respond, LeanRoute, LeanUnary } from "./lean-unary.js";
import { protocolOf } from "./lean-wire.js";
import type { M3oLean } from "./m3o.js";

export interface LeanHttp1Options {
  lean: LeanUnary;
  /** The M3O paths' calls the lean path serves. */
  m3o: M3oLean;
  observer: RequestObserver;
  /** Which browser origins may read the answers: the same as Node's server applies. */
  cors: CorsPolicy;
  /**
   * An idle connection is closed after this long, as Node's keepAliveTimeout
   * does; a request that has not arrived whole this long after its first
   * bytes goes to Node's server.
   */
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

// Reads of one head past which the head goes to Node's parser, which does not scan it again at each read.
const maxHeadReads = 32;

/**
 * A reader of HTTP/1.1 for the lean path's Connect, gRPC-Web and M3O
 * calls, in place of Node's request and response objects, which cost about
 * 30 % of a JSON Read's CPU. It serves requests framed by Content-Length and shaped as
 * every Connect client, browser and proxy sends them (HTTP/1.0 and
 * Connection: close included), Connect GETs, and CORS preflights; a
 * request split across reads is served once the rest has come. At the first
 * request that is anything else (another path or method, chunked, a header
 * it does not know how to judge, judged on the head alone; or a request not
 * whole within keepAliveMs) it hands the connection, with every byte not yet
 * served, to Node's HTTP/1.1 server for good, so Node answers it as it
 * always did.
 */
export function createLeanHttp1({ lean, m3o, observer, cors, keepAliveMs }: LeanHttp1Options) {
  const keepAliveFields = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(keepAliveMs / 1000)}\r\n\r\n`;

  return function take(socket: net.Socket, { handOver, draining }: Http1Handling): LeanHttp1Connection {
    let unread: Buffer | undefined;
    // The rest of a request read in part, joined to `unread` once at least `missing` more bytes have come.
    let pieces: Buffer[] = [];
    let missing = 0;
    // Since when, and in how many reads, the request read in part has been arriving.
    let arrivingSince: NodeJS.Timeout | undefined;
    let headReads = 0;
    let inFlight: { cancel: LazyAbort; observation: Observation; record: CallRecord } | undefined;
    let awaitingDrain = false;

    const onData = (chunk: Buffer) => {
      // Once the answer that closes the connection is written, what follows is never read.
      if (socket.writableEnded) return;
      if (chunk.length < missing) {
        pieces.push(chunk);
        missing -= chunk.length;
        return;
      }
      unread = unread ? Buffer.concat([unread, ...pieces, chunk]) : chunk;
      pieces = [];
      missing = 0;
      // One call at a time: what a client sends ahead waits in the kernel's buffers, not in ours.
      if (inFlight || awaitingDrain) socket.pause();
      serveNext();
    };
    const onClose = () => {
      clearTimeout(arrivingSince);
      if (!inFlight) return;
      inFlight.cancel.abort();
      inFlight.observation.end(200, false, inFlight.record);
      inFlight = undefined;
    };
    const onTimeout = () => {
      if (missing > 0) giveUp();
      // As Node's server: an answer the client has not yet read all of keeps its connection open.
      else if (!inFlight && socket.writableLength === 0) socket.destroy();
    };
    const onError = () => socket.destroy();
    socket.on("data", onData).on("close", onClose).on("timeout", onTimeout).on("error", onError);
    socket.setTimeout(keepAliveMs);

    function giveUp() {
      socket.off("data", onData).off("close", onClose).off("timeout", onTimeout).off("error", onError);
      socket.setTimeout(0);
      clearTimeout(arrivingSince);
      const rest = pieces.length > 0 ? Buffer.concat([unread!, ...pieces]) : unread;
      unread = undefined;
      pieces = [];
      missing = 0;
      handOver(rest);
    }

    /**
     * Waits for at least `bytes` more of a request. One that trickles in, or
     * whose head comes in many small reads (each read scans the head again),
     * is left to Node's server, its parser and its header and request timeouts.
     */
    function awaitRest(bytes: number, head: boolean) {
      if (head && ++headReads > maxHeadReads) return giveUp();
      missing = bytes;
      arrivingSince ??= setTimeout(giveUp, keepAliveMs);
      if (socket.isPaused()) socket.resume();
    }

    /** Writes an answer with the fields every answer has; false if it closes the connection. */
    function answer(keepAlive: boolean, status: number, fields: string, body: Uint8Array | string, done?: (err?: Error | null) => void): boolean {
      const closing = !keepAlive || draining();
      let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "unknown"}\r\n${fields}date: ${httpDate()}\r\n`;
      text += closing ? "connection: close\r\n\r\n" : keepAliveFields;
      if (typeof body === "string") {
        socket.write(text + body, done);
      } else {
        socket.cork();
        socket.write(text, "latin1");
        socket.write(body, done);
        socket.uncork();
      }
      // As Node's server closes: after the answer, whether or not the client reads on.
      if (closing) socket.destroySoon();
      return !closing;
    }

    function serveNext() {
      for (;;) {
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
        if (request === "partial") return awaitRest(1, true);
        const { method, target, keepAlive, headers, bodyEnd } = request;
        if (method === "OPTIONS") {
          // Node's server answers preflights before it observes a request, so they are neither logged nor counted.
          if (headers["access-control-request-method"] === undefined) return giveUp();
          served(bodyEnd);
          const { status, fields } = cors.preflight(headers.origin);
          if (!answer(keepAlive, status, fieldLines(fields) + (status === 204 ? "" : "content-length: 0\r\n"), "")) return;
          continue;
        }
        // Judged on its head, so that Node's server answers what it serves without waiting for a body.
        const route = lean.http1Route(method, target, headers);
        if (!route && !(method === "POST" && m3o.serves(target))) return giveUp();
        if (bodyEnd > unread.length) return awaitRest(bodyEnd - unread.length, false);
        const body = unread.subarray(request.bodyStart, bodyEnd);
        served(bodyEnd);
        serveCall(route, target, keepAlive, headers, body);
        return;
      }
    }

    /** Drops a request read whole from `unread`. */
    function served(end: number) {
      clearTimeout(arrivingSince);
      arrivingSince = undefined;
      headReads = 0;
      unread = end < unread!.length ? unread!.subarray(end) : undefined;
    }

    /** Serves a Connect call on its route, or else an M3O call. */
    function serveCall(route: LeanRoute | undefined, target: string, keepAlive: boolean, headers: IncomingHttpHeaders, body: Buffer) {
      const allowed = cors.answerFields(headers.origin);
      const record: CallRecord = {};
      const cancel = new LazyAbort();
      const sent = headers["x-request-id"];
      // The observer logs the path alone: a GET's query carries its message, an invite code perhaps.
      const observation = observer.begin(typeof sent === "string" ? sent : undefined, route ? protocolOf(route.wire) : "m3o", target);
      // In flight before the call starts, so that an answer given at once is written too.
      inFlight = { cancel, observation, record };
      const respond: Http1Respond = (status, head, body) => {
        if (inFlight?.cancel !== cancel) return;
        inFlight = undefined;
        const fields = `${fieldLines(head)}${allowed ? fieldLines(allowed) : ""}x-request-id: ${observation.requestId}\r\n`;
        if (answer(keepAlive, status, fields, body, (err) => observation.end(status, !err, record))) serveNext();
      };
      if (route) lean.http1(route, headers, () => body, record, cancel, respond);
      else m3o.serve(target, headers, body, record, cancel, respond);
    }

    return {
      closeIfIdle() {
        // A head still arriving is idle too, as Node's server counts it.
        if (!inFlight && (!unread || readRequest(unread, lean.maxBodyBytes) === "partial")) socket.destroySoon();
      },
    };
  };
}

export type LeanHttp1 = ReturnType<typeof createLeanHttp1>;

/** Field lines for an answer's head. */
function fieldLines(fields: Record<string, string>): string {
  let text = "";
  for (const name in fields) text += `${name}: ${fields[name]}\r\n`;
  return text;
}

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
