import type Database from "better-sqlite3";
import { newerSchemaError } from "../store.js";

/** SQL to run, or a step that edits the stored schema itself. */
type SqliteMigration = string | ((db: Database.Database) => void);

/**
 * Schema versions, applied in order. Each entry moves the schema from
 * version index to index + 1; released entries are never edited.
 * Times are milliseconds since the epoch.
 */
export const sqliteMigrations: readonly SqliteMigration[] = [
  `
  CREATE TABLE invites (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    namespace   TEXT    NOT NULL,
    group_id    TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    code        TEXT    NOT NULL UNIQUE,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'accepted', 'revoked', 'expired')),
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    expire_time INTEGER,
    accept_time INTEGER,
    revoke_time INTEGER,
    inviter     TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    max_uses    INTEGER NOT NULL CHECK (max_uses >= 0),
    use_count   INTEGER NOT NULL CHECK (use_count >= 0 AND (max_uses = 0 OR use_count <= max_uses))
  ) STRICT;
  -- One pending invite per namespace, group and email: Create's idempotency.
  CREATE UNIQUE INDEX invites_pending_key ON invites (namespace, group_id, email)
    WHERE state = 'pending' AND email <> '';
  CREATE INDEX invites_by_time ON invites (namespace, create_time DESC, seq DESC);
  CREATE INDEX invites_by_group ON invites (namespace, group_id, create_time DESC, seq DESC);
  CREATE INDEX invites_by_email ON invites (namespace, email, create_time DESC, seq DESC);
  CREATE INDEX invites_by_state ON invites (namespace, state, create_time DESC, seq DESC);

  CREATE TABLE acceptances (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    invite_id   TEXT    NOT NULL REFERENCES invites (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    accept_time INTEGER NOT NULL,
    UNIQUE (invite_id, user_id)
  ) STRICT;
  `,
  rewriteStateCheck,
];

const stateCheckAsList = "CHECK (state IN ('pending', 'accepted', 'revoked', 'expired'))";
export const stateCheckAsComparisons = "CHECK (state = 'pending' OR state = 'accepted' OR state = 'revoked' OR state = 'expired')";

/**
 * Version 2: the state CHECK as comparisons, which mean the same. SQLite
 * evaluates an IN list of more than two constants by building a temporary
 * b-tree of them, on every run of an INSERT: ≈ 20,600 instructions of the
 * ≈ 117,500 an insert and its share of a commit cost (callgrind,
 * better-sqlite3 alone, 26 inserts a commit). SQLite cannot alter
 * an unnamed CHECK, so the stored definition is edited, as its ALTER TABLE
 * documentation describes for changing constraints that every row already
 * meets; the schema version moves on so that other connections read it again.
 */
function rewriteStateCheck(db: Database.Database): void {
  const table = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'invites'").get();
  if (!table?.sql.includes(stateCheckAsList)) throw new Error("invites table lacks the state CHECK of schema version 1");
  const schemaVersion = db.pragma("schema_version", { simple: true }) as number;
  // better-sqlite3 opens connections in SQLite's defensive mode, which forbids writing the schema.
  db.unsafeMode(true);
  try {
    db.pragma("writable_schema = ON");
    db.prepare("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'invites'").run(table.sql.replace(stateCheckAsList, stateCheckAsComparisons));
    db.pragma(`schema_version = ${schemaVersion + 1}`);
  } finally {
    // RESET also makes this connection parse the schema again: the new cookie alone tells only the others.
    db.pragma("writable_schema = RESET");
    db.unsafeMode(false);
  }
}

/** Applies the versions the file lacks, under the write lock. */
export function migrate(db: Database.Database): void {
  // The write lock makes a second process starting at the same time wait, then see the new version.
  db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > sqliteMigrations.length) throw newerSchemaError(current, sqliteMigrations.length);
    for (let version = current; version < sqliteMigrations.length; version++) {
      const migration = sqliteMigrations[version];
      if (typeof migration === "string") db.exec(migration);
      else migration(db);
    }
    if (current < sqliteMigrations.length) db.pragma(`user_version = ${sqliteMigrations.length}`);
  }).immediate();
}
