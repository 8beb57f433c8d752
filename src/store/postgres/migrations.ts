import type pg from "pg";
import { guard } from "./postgres-errors.js";
import { newerSchemaError } from "../store.js";

/**
 * Schema versions for PostgreSQL, applied in order and recorded in
 * schema_migrations; released entries are never edited. The same schema as
 * SQLite's, in PostgreSQL's types.
 */
export const postgresMigrations: readonly string[] = [
  `
  CREATE TABLE invites (
    seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          uuid        NOT NULL UNIQUE,
    namespace   text        NOT NULL,
    group_id    text        NOT NULL,
    email       text        NOT NULL,
    code        text        NOT NULL CONSTRAINT invites_code_key UNIQUE,
    state       text        NOT NULL CHECK (state IN ('pending', 'accepted', 'revoked', 'expired')),
    create_time timestamptz NOT NULL,
    update_time timestamptz NOT NULL,
    expire_time timestamptz,
    accept_time timestamptz,
    revoke_time timestamptz,
    inviter     text        NOT NULL,
    role        text        NOT NULL,
    metadata    jsonb       NOT NULL,
    max_uses    integer     NOT NULL CHECK (max_uses >= 0),
    use_count   integer     NOT NULL CHECK (use_count >= 0 AND (max_uses = 0 OR use_count <= max_uses))
  );
  -- One pending invite per namespace, group and email: Create's idempotency.
  CREATE UNIQUE INDEX invites_pending_key ON invites (namespace, group_id, email)
    WHERE state = 'pending' AND email <> '';
  CREATE INDEX invites_by_time ON invites (namespace, create_time DESC, seq DESC);
  CREATE INDEX invites_by_group ON invites (namespace, group_id, create_time DESC, seq DESC);
  CREATE INDEX invites_by_email ON invites (namespace, email, create_time DESC, seq DESC);
  CREATE INDEX invites_by_state ON invites (namespace, state, create_time DESC, seq DESC);

  CREATE TABLE acceptances (
    seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invite_id   uuid        NOT NULL REFERENCES invites (id) ON DELETE CASCADE,
    user_id     text        NOT NULL,
    email       text        NOT NULL,
    accept_time timestamptz NOT NULL,
    UNIQUE (invite_id, user_id)
  );
  `,
];

// Any lock number works, as long as every replica uses the same one.
const migrationLock = 7_143_220_583;

/** Applies pending migrations once, however many replicas start together. */
export async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await guard(() => pool.connect());
  try {
    await client.query("SELECT pg_advisory_lock($1)", [migrationLock]);
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, apply_time timestamptz NOT NULL DEFAULT now())");
    const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM schema_migrations");
    const current = rows[0].version ?? 0;
    if (current > postgresMigrations.length) throw newerSchemaError(current, postgresMigrations.length);
    for (let version = current; version < postgresMigrations.length; version++) {
      await client.query("BEGIN");
      await client.query(postgresMigrations[version]);
      await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version + 1]);
      await client.query("COMMIT");
    }
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [migrationLock]).catch(() => undefined);
    client.release();
  }
}
