import { createConnectRouter } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { routes } from "./connect.js";
import { createHttpHandler } from "./http/http-handler.js";
import { createOnePortServer } from "./http/one-port-server.js";
import { startRetention } from "./invites/retention.js";
import { createJsonLogger, type Logger } from "./logger.js";
import { openStore } from "./store/open-store.js";
import type { InviteStore } from "./store/store.js";

export interface ServerOptions {
  /** Defaults to the store config.databaseUrl names. */
  store?: InviteStore;
  logger?: Logger;
  now?: () => Date;
}

export interface RunningServer {
  /** Base URL, for example http://127.0.0.1:8080. */
  readonly url: string;
  readonly port: number;
  /** Reports NOT_SERVING, drains in-flight calls, then closes the store. */
  close(): Promise<void>;
}

/** Builds the whole service and listens on config.host and config.port. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createJsonLogger();
  const store = options.store ?? (await openStore(config.database));
  let draining = false;
  const isServing = async () => !draining && (await store.ping().then(() => true, () => false));

  const router = createConnectRouter({
    readMaxBytes: config.maxBodyBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
    // Proto field names (group_id), as the seed and M3O clients use.
    jsonOptions: { useProtoFieldName: true, ignoreUnknownFields: true },
  });
  routes({ store, apiKeys: config.apiKeys, logger, isServing, now: options.now, defaultTtlMs: config.defaultTtlMs })(router);
  const handler = createHttpHandler({ router, corsOrigins: config.corsOrigins, maxBodyBytes: config.maxBodyBytes, logger });
  const server = createOnePortServer(handler, config.tls);
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
      await retention?.stop();
      await server.close(config.shutdownGraceMs);
      await store.close();
    },
  };
}

async function main(): Promise<void> {
  const logger = createJsonLogger();
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`invites: ${err.message}\n`);
    process.exit(2);
  }
  const server = await startServer(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
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
  logger.info("listening", {
    url: server.url,
    database: redactUrl(config.database.url),
    api_keys: config.apiKeys.size,
  });
}

/** A database URL without its password, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:…@");
}

if (require.main === module) {
  main().catch((err: NodeJS.ErrnoException) => {
    process.stderr.write(`invites: ${err.code === "EADDRINUSE" ? "the port is already in use" : err.message}\n`);
    process.exit(1);
  });
}
