import { openPostgresStore } from "./postgres/postgres-store.js";
import { openSqliteStore } from "./sqlite/sqlite-store.js";
import { NewerSchemaError, type InviteStore } from "./store.js";

export const defaultDatabaseUrl = "./data/invites.db";

export interface DatabaseOptions {
  /** `postgres://…` or `postgresql://…`; `sqlite:PATH`, `sqlite::memory:` or a plain file path. */
  url: string;
  poolSize?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Apply pending migrations while opening. */
  migrate?: boolean;
  /** SQLite: how long a write may wait for others to share its commit, while writes keep coming. */
  commitWindowMs?: number;
  /** SQLite: how much of the file reads reach through a memory map (0: none). */
  mmapBytes?: number;
  /** SQLite: told how long each restart of the WAL held writes, in seconds. */
  onWritesHeld?: (seconds: number) => void;
}

/** Opens the store DATABASE_URL names. */
export async function openStore(options: DatabaseOptions): Promise<InviteStore> {
  const { url } = options;
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgresStore({ ...options, url });
  const filename = url.startsWith("sqlite:") ? url.slice("sqlite:".length) : url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(filename)) {
    throw new Error(`DATABASE_URL: unsupported scheme in "${url.split("://")[0]}://…"`);
  }
  if (filename === "") throw new Error("DATABASE_URL: the SQLite path is empty");
  try {
    return openSqliteStore({ filename, commitWindowMs: options.commitWindowMs, mmapBytes: options.mmapBytes, onWritesHeld: options.onWritesHeld });
  } catch (err) {
    // Opened fine, but not this build's to use: its own words say what to do.
    if (err instanceof NewerSchemaError) throw new NewerSchemaError(`DATABASE_URL=${url}: ${err.message}`);
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`DATABASE_URL=${url}: cannot create or open the SQLite database (${reason})`);
  }
}
