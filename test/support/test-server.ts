import { join } from "node:path";
import { parseApiKeys } from "../../src/access/api-keys.js";
import type { Config } from "../../src/config.js";
import { silentLogger } from "../../src/logger.js";
import { startServer, type RunningServer, type ServerOptions } from "../../src/server.js";
import { makeTempDir } from "./temp-dir.js";

export interface TestServer extends RunningServer {
  databasePath: string;
}

/** The real server on a loopback port chosen by the OS, with its own SQLite file. */
export async function startTestServer(
  overrides: Partial<Config> & { apiKeysText?: string; databasePath?: string } = {},
  options: ServerOptions = {},
): Promise<TestServer> {
  const dir = makeTempDir();
  const { apiKeysText, databasePath = join(dir.path, "invites.db"), ...configOverrides } = overrides;
  const config: Config = {
    port: 0,
    host: "127.0.0.1",
    databaseUrl: `sqlite:${databasePath}`,
    apiKeys: parseApiKeys(apiKeysText ?? "", "test keys"),
    corsOrigins: [],
    maxBodyBytes: 64 * 1024,
    shutdownGraceMs: 2000,
    defaultTtlMs: 7 * 24 * 60 * 60 * 1000,
    ...configOverrides,
  };
  const server = await startServer(config, { logger: silentLogger, ...options });
  return {
    ...server,
    databasePath,
    async close() {
      await server.close();
      dir.remove();
    },
  };
}
