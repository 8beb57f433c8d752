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
