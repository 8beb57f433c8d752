import { parseApiKeys } from "../../src/access/api-keys.js";
import type { Config } from "../../src/config.js";
import { silentLogger } from "../../src/logger.js";
import { startServer, type RunningServer, type ServerOptions } from "../../src/server.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";

export interface TestServer extends RunningServer {
  database: TestDatabase;
}

/**
 * The real server on a loopback port chosen by the OS, on a fresh database of
 * this run's kind (or the one given, which it then leaves in place).
 */
export async function startTestServer(
  overrides: Partial<Config> & { apiKeysText?: string; testDatabase?: TestDatabase } = {},
  options: ServerOptions = {},
): Promise<TestServer> {
  const { apiKeysText, testDatabase, ...configOverrides } = overrides;
  const database = testDatabase ?? (await createTestDatabase());
  const config: Config = {
    port: 0,
    host: "127.0.0.1",
    database: { url: database.url, poolSize: 20 },
    apiKeys: parseApiKeys({ text: apiKeysText ?? "", source: "test keys" }),
    corsOrigins: [],
    maxBodyBytes: 64 * 1024,
    http2MaxStreams: 100,
    keepAliveTimeoutMs: 5000,
    shutdownGraceMs: 2000,
    shutdownDelayMs: 0,
    logLevel: "silent",
    // The "connect-node" jest project runs the same tests with the lean path off.
    leanPath: process.env.INVITES_TEST_LEAN_PATH !== "false",
    defaultTtlMs: 7 * 24 * 60 * 60 * 1000,
    ...configOverrides,
  };
  const server = await startServer(config, { logger: silentLogger, ...options });
  return {
    ...server,
    database,
    async close() {
      await server.close();
      if (!testDatabase) await database.remove();
    },
  };
}
