export { startServer, type RunningServer, type ServerOptions } from "./server.js";
export { loadConfig, ConfigError, type Config } from "./config.js";
export { routes, type RouteOptions } from "./connect.js";
export { createInvitesService, type InvitesServiceOptions } from "./invites/invites-service.js";
export { openStore } from "./store/open-store.js";
export { openSqliteStore, type SqliteStoreOptions } from "./store/sqlite/sqlite-store.js";
export * from "./store/store.js";
export { parseApiKeys, type ApiKeys } from "./access/api-keys.js";
export { createJsonLogger, silentLogger, type Logger } from "./logger.js";
