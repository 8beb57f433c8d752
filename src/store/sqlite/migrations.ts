/**
 * Schema versions, applied in order. Each entry moves the schema from
 * version index to index + 1; released entries are never edited.
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
    create_time INTEGER NOT NULL
  ) STRICT;
  -- One pending invite per namespace, group and email: Create's idempotency.
  CREATE UNIQUE INDEX invites_pending_key ON invites (namespace, group_id, email);
  CREATE INDEX invites_by_time ON invites (namespace, create_time DESC, seq DESC);
  CREATE INDEX invites_by_group ON invites (namespace, group_id, create_time DESC, seq DESC);
  CREATE INDEX invites_by_email ON invites (namespace, email, create_time DESC, seq DESC);
  `,
];
