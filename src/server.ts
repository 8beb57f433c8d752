import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { createConnectRouter } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { InvitesService } from "../gen/invites/v1/invites_pb.js";
import { createInvitesHandlers, routes } from "./connect.js";
import { createCorsPolicy } from "./http/cors.js";
import { createHttpHandler } from "./http/http-handler.js";
import { createLeanHttp1 } from "./http/lean-http1.js";
import { createM3oLean } from "./http/m3o.js";
import { createLeanUnary } from "./http/lean-unary.js";
import { maxTimeoutMs } from "./http/lean-wire.js";
import { createOnePortServer } from "./http/one-port-server.js";
import { startRetention } from "./invites/retention.js";
import { createLogger, type Logger } from "./logger.js";
import { createMetrics, instrumentStore } from "./observability/metrics.js";
import { createRequestObserver } from "./observability/request-observer.js";
import { openStore } from "./store/open-store.js";
import type { InviteStore } from "./store/store.js";

export interface ServerOptions {
  /** Defaults to the store config.database names. */
  store?: InviteStore;
  logger?: Logger;
  now?: () => Date;
}

export interface RunningServer {
  /** Base URL, for example http://127.0.0.1:8080. */
  readonly url: string;
  readonly port: number;
  /**
   * Reports NOT_SERVING, waits config.shutdownDelayMs, stops accepting,
   * drains in-flight calls for up to config.shutdownGraceMs, then closes the store.
   */
  close(): Promise<void>;
}

// Proto field names (group_id), as the seed and M3O clients use.
const jsonOptions = { useProtoFieldName: true, ignoreUnknownFields: true };

/** Builds the whole service and listens on config.host and config.port. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const onWritesHeld = (seconds: number) => metrics.sqliteWritesHeld.observe(seconds);
  const store = instrumentStore(options.store ?? (await openStore({ ...config.database, onWritesHeld })), metrics);
  let draining = false;
  const isServing = async () => !draining && (await store.ping().then(() => true, () => false));

  const router = createConnectRouter({
    readMaxBytes: config.maxBodyBytes,
    maxTimeoutMs,
    acceptCompression: [compressionGzip, compressionBrotli],
    jsonOptions,
  });
  const routeOptions = { store, apiKeys: config.apiKeys, logger, isServing, now: options.now, defaultTtlMs: config.defaultTtlMs };
  const invites = createInvitesHandlers(routeOptions);
  routes(routeOptions, invites)(router);
  const observer = createRequestObserver(logger, metrics);
  const lean = config.leanPath
    ? createLeanUnary({ service: InvitesService, ...invites, jsonOptions, maxBodyBytes: config.maxBodyBytes, observe: observer })
    : undefined;
  const cors = createCorsPolicy(config.corsOrigins);
  const handler = createHttpHandler({ router, cors, maxBodyBytes: config.maxBodyBytes, logger, metrics, isServing, observer, lean });
  const keepAliveMs = config.keepAliveTimeoutMs;
  const http1Reader = lean && createLeanHttp1({ lean, m3o: createM3oLean(lean), observer, cors, keepAliveMs });
  const streamHandler = lean && ((stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => lean.http2Stream(stream, headers, cors.answerFields(headers.origin)));
  const server = createOnePortServer(handler, { tls: config.tls, streamHandler, http2MaxStreams: config.http2MaxStreams, http1Reader, keepAliveMs });
  let address;
  try {
    address = await server.listen(config.port, config.host);
  } catch (err) {
    await store.close();
    throw err;
  }
  const retention = config.retentionMs ? await startRetention({ store, retentionMs: config.retentionMs, now: options.now, logger }) : undefined;
  const scheme = config.tls ? "https" : "http";
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `${scheme}://${host}:${address.port}`,
    port: address.port,
    async close() {
      draining = true;
      // Load balancers see NOT_SERVING and stop sending before connections are refused.
      await sleep(config.shutdownDelayMs);
      await retention?.stop();
      await server.close(config.shutdownGraceMs);
      await store.close();
    },
  };
}

/** Runs the service until SIGTERM or SIGINT, then shuts down gracefully and exits 0. */
export async function serve(config: Config): Promise<void> {
  // The process is the service's own, so it sets V8's flags for it. With
  // allocation-site pretenuring on, after peak loads each young collection
  // during Lists took 16–18 ms instead of about 1: List's p99 was 43–148 ms
  // with it, 5.7–59 ms without (bench/README.md, "Why p99 misses"). Set before any request has run.
  setFlagsFromString("--no-allocation-site-pretenuring");
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal, delay_ms: config.shutdownDelayMs, grace_ms: config.shutdownGraceMs });
    server.close().then(
      () => process.exit(0),
      (err) => {
        logger.error("shutdown failed", { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  if (config.apiKeys.size === 0) {
    logger.warn("no API keys configured: open access for development, listening on loopback only");
  }
  // Last, so whoever waits for this line can rely on the signal handlers.
  logger.info("listening", { url: server.url, database: redactUrl(config.database.url), api_keys: config.apiKeys.size });
}

/** A database URL without its password, for logs. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:…@");
}

/** One line on stderr for a failure to start, and the exit code for it. */
export function reportStartFailure(err: unknown): number {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof ConfigError) {
    process.stderr.write(`invites: ${err.message}\n`);
    return 2;
  }
  const message = e.code === "EADDRINUSE" ? "the port is already in use" : e.code === "EACCES" ? "no permission to listen on the port" : e.message;
  process.stderr.write(`invites: ${message}\n`);
  return 1;
}

if (require.main === module) {
  Promise.resolve()
    .then(() => serve(loadConfig()))
    .catch((err: unknown) => process.exit(reportStartFailure(err)));
}
