import type Database from "better-sqlite3";

/**
 * Schema versions, applied in order. Each entry moves the schema from
 * version index to index + 1; released entries are never edited.
 * Times are milliseconds since the epoch.
 */
export const sqliteMigrations: readonly string[] = [
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
];

/** Applies the versions the file lacks, under the write lock. */
export function migrate(db: Database.Database): void {
  // The write lock makes a second process starting at the same time wait, then see the new version.
  db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    for (let version = current; version < sqliteMigrations.length; version++) {
      db.exec(sqliteMigrations[version]);
    }
    if (current < sqliteMigrations.length) db.pragma(`user_version = ${sqliteMigrations.length}`);
  }).immediate();
}
