import { openSqliteStore } from "./sqlite/sqlite-store.js";
import type { InviteStore } from "./store.js";

export const defaultDatabaseUrl = "./data/invites.db";

/**
 * Opens the store a DATABASE_URL names: `sqlite:PATH`, `sqlite::memory:`, or a
 * plain file path.
 */
export function openStore(databaseUrl: string): InviteStore {
  const filename = databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length) : databaseUrl;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(filename)) {
    throw new Error(`DATABASE_URL: unsupported scheme in "${databaseUrl.split("://")[0]}://…"`);
  }
  if (filename === "") throw new Error("DATABASE_URL: the SQLite path is empty");
  return openSqliteStore({ filename });
}
