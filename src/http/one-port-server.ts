import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import type { LeanHttp1, LeanHttp1Connection } from "./lean-http1.js";
import type { NodeHandler } from "./node-types.js";

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export interface OnePortServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, lets in-flight calls finish for up to graceMs, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

// Every HTTP/2 connection starts with this preface; no HTTP/1 request does.
const http2Preface = Buffer.from("PRI * HTTP/2.0");

/** Serves an HTTP/2 stream directly, or returns false to leave it to the request handler. */
export type StreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

export interface OnePortOptions {
  tls?: TlsFiles;
  /** Takes the HTTP/2 streams it serves before Node's request/response pair is made. */
  streamHandler?: StreamHandler;
  /**
   * Calls one HTTP/2 connection may have in flight; its client queues the
   * rest. Node's default is unlimited, and a connection that fell behind
   * then made the server hold thousands of calls at once, and fell seconds behind.
   */
  http2MaxStreams: number;
  /** Takes HTTP/1.1 connections first, handing them to Node's server at the first request it does not serve. */
  http1Reader?: LeanHttp1;
  /** How long an idle HTTP/1.1 connection is kept open. */
  keepAliveMs: number;
}

/**
 * HTTP/1.1 and HTTP/2 on one port. With TLS, ALPN chooses; in cleartext the
 * first bytes do, because Node ignores allowHTTP1 without TLS.
 */
export function createOnePortServer(handler: NodeHandler, { tls, streamHandler, http2MaxStreams, http1Reader, keepAliveMs }: OnePortOptions): OnePortServer {
  const settings = { maxConcurrentStreams: http2MaxStreams };
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const trackSession = (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  };

  // HTTP/1 sockets and how many requests each is serving, so draining can
  // close idle keep-alive connections at once and busy ones after their response.
  const http1Sockets = new Map<net.Socket, number>();
  const leanConnections = new Set<LeanHttp1Connection>();
  let draining = false;
  const trackHttp1 = (server: http.Server) => {
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket;
      http1Sockets.set(socket, (http1Sockets.get(socket) ?? 0) + 1);
      if (draining) res.shouldKeepAlive = false;
      res.once("close", () => {
        const busy = (http1Sockets.get(socket) ?? 1) - 1;
        http1Sockets.set(socket, busy);
        if (draining && busy === 0) socket.end();
      });
    });
  };

  // Node turns each stream into a request/response pair in its own 'stream'
  // listener; put the stream handler in front of it, for the calls it serves.
  const takeStreams = (server: http2.Http2Server | http2.Http2SecureServer) => {
    if (!streamHandler) return;
    const compat = server.listeners("stream") as ((...args: unknown[]) => void)[];
    server.removeAllListeners("stream");
    server.on("stream", (...args: [http2.ServerHttp2Stream, http2.IncomingHttpHeaders, ...unknown[]]) => {
      if (!streamHandler(args[0], args[1])) for (const listener of compat) listener.apply(server, args);
    });
  };

  // An HTTP/1.1 connection read by http1Reader until it hands it, with what it read and did not serve, to `toNode`.
  const read = (socket: net.Socket, toNode: () => void) => {
    const connection = http1Reader!(socket, {
      handOver(unread) {
        leanConnections.delete(connection);
        socket.pause();
        if (unread) socket.unshift(unread);
        toNode();
      },
      draining: () => draining,
    });
    leanConnections.add(connection);
    socket.once("close", () => leanConnections.delete(connection));
    socket.resume();
  };

  let front: net.Server;
  if (tls) {
    // Node's HTTP/2 server turns Nagle's algorithm off only for its own sessions, not for HTTP/1.1 over TLS.
    const secure = http2.createSecureServer({ ...tls, allowHTTP1: true, settings, noDelay: true }, handler);
    // Node's HTTP/1.1 code reads it from the server, where the HTTP/2 server leaves it unset: idle connections then stayed open.
    Object.assign(secure, { keepAliveTimeout: keepAliveMs });
    secure.on("connection", track);
    secure.on("session", trackSession);
    takeStreams(secure);
    if (http1Reader) {
      // Node's own listener picks HTTP/2 or HTTP/1.1 by ALPN; the reader goes in front of it for HTTP/1.1.
      const [byAlpn] = secure.listeners("secureConnection") as ((socket: tls.TLSSocket) => void)[];
      secure.removeListener("secureConnection", byAlpn);
      secure.on("secureConnection", (socket: tls.TLSSocket) => {
        if (socket.alpnProtocol === "h2") byAlpn.call(secure, socket);
        else
          read(socket, () => {
            byAlpn.call(secure, socket);
            socket.resume();
          });
      });
    }
    front = secure;
  } else {
    const h1 = http.createServer({ keepAliveTimeout: keepAliveMs }, handler);
    const toNode = (socket: net.Socket) => {
      http1Sockets.set(socket, 0);
      socket.once("close", () => http1Sockets.delete(socket));
      h1.emit("connection", socket);
      socket.resume();
    };
    const h2 = http2.createServer({ settings }, handler);
    h2.on("session", trackSession);
    takeStreams(h2);
    trackHttp1(h1);
    // Sockets handed over by emit("connection") miss what http.createServer
    // sets when it accepts one itself: without this, HTTP/1.1 answers went out
    // under Nagle's algorithm (HTTP/2 sessions turn it off on their own).
    front = net.createServer({ noDelay: true }, (socket) => {
      track(socket);
      // Until a server takes the socket, nothing else listens for its errors: a client resetting before its first byte crashed the process.
      socket.on("error", () => socket.destroy());
      // Nor for its silence: a connection that never sent a byte stayed open for good.
      const silent = () => socket.destroy();
      socket.setTimeout(keepAliveMs, silent);
      let first: Buffer | undefined;
      const sniff = (chunk: Buffer) => {
        first = first ? Buffer.concat([first, chunk]) : chunk;
        const seen = Math.min(first.length, http2Preface.length);
        const isHttp2 = first.subarray(0, seen).equals(http2Preface.subarray(0, seen));
        // A first read of "P" or "PR" may be either.
        if (isHttp2 && seen < http2Preface.length) return;
        socket.off("data", sniff);
        socket.setTimeout(0, silent);
        socket.pause();
        socket.unshift(first);
        if (isHttp2) {
          // The session reads back what is buffered on its next tick; resuming would drop it.
          h2.emit("connection", socket);
        } else if (http1Reader) {
          read(socket, () => toNode(socket));
        } else {
          toNode(socket);
        }
      };
      socket.on("data", sniff);
    });
    // Node enforces headersTimeout and requestTimeout only on a server that has
    // emitted 'listening', which h1, never listening itself, had not: a client
    // could hold a connection open for good with a head it never finished.
    front.once("listening", () => h1.emit("listening"));
    front.once("close", () => h1.close());
  }

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        front.once("error", reject);
        front.listen(port, host, () => {
          front.off("error", reject);
          resolve(front.address() as AddressInfo);
        });
      });
    },
    async close(graceMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      for (const session of sessions) session.close();
      for (const [socket, busy] of http1Sockets) if (busy === 0) socket.end();
      for (const connection of leanConnections) connection.closeIfIdle();
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
