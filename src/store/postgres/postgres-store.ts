import pg from "pg";
import { closeAfterCalls } from "../close-after-calls.js";
import {
  DuplicateCodeError,
  PendingInviteExistsError,
  type ChangeResult,
  type InviteStore,
  type ListQuery,
  type ListState,
} from "../store.js";
import { pageOf } from "../page.js";
import { fromAcceptanceRow, fromRow, optionalRow, toValues, type AcceptanceRow, type InviteRow } from "./invite-row.js";
import { migratePostgres } from "./migrations.js";
import { constraintOf, guard } from "./postgres-errors.js";

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections per replica. */
  poolSize?: number;
  /** A statement running longer is cancelled (and the call fails with Unavailable). */
  statementTimeoutMs?: number;
  /** How long to wait for a new connection before failing. */
  connectTimeoutMs?: number;
  /** Apply pending migrations on open (under an advisory lock). */
  migrate?: boolean;
}

// An invite is usable while pending, unexpired and not used up. $1 is now.
const usable = "state = 'pending' AND (expire_time IS NULL OR expire_time > $1) AND (max_uses = 0 OR use_count < max_uses)";

// Each takes a getter for the placeholder of the time expiry is judged against.
const stateConditions: Record<ListState, (now: () => string) => string> = {
  pending: (now) => `(state = 'pending' AND (expire_time IS NULL OR expire_time > ${now()}))`,
  expired: (now) => `(state = 'expired' OR (state = 'pending' AND expire_time <= ${now()}))`,
  accepted: () => "state = 'accepted'",
  revoked: () => "state = 'revoked'",
};

/** Connects a pool to PostgreSQL and, unless told not to, brings the schema up to date. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<InviteStore> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    statement_timeout: options.statementTimeoutMs ?? 5000,
    // Without it a broken connection could wait for TCP to give up.
    query_timeout: (options.statementTimeoutMs ?? 5000) + 1000,
  });
  // An idle connection that breaks (say, the database restarts) must not crash the process.
  pool.on("error", () => undefined);
  // Either way the database must answer now, so a replica that cannot reach it says so at start-up.
  try {
    if (options.migrate ?? true) await migratePostgres(pool);
    else await guard(() => pool.query("SELECT 1"));
  } catch (err) {
    await pool.end();
    throw err;
  }

  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[], client: pg.Pool | pg.PoolClient = pool) =>
    guard(() => client.query<R>(text, values));

  const transaction = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await guard(() => pool.connect());
    let reusable = true;
    try {
      await query("BEGIN", [], client);
      const result = await work(client);
      await query("COMMIT", [], client);
      return result;
    } catch (err) {
      reusable = await client.query("ROLLBACK").then(() => true, () => false);
      throw err;
    } finally {
      // A connection that cannot even roll back is broken: the pool drops it instead of lending it again.
      client.release(!reusable);
    }
  };

  const findById = async (namespace: string, id: string, client?: pg.PoolClient) =>
    (await query<InviteRow>("SELECT * FROM invites WHERE namespace = $1 AND id = $2", [namespace, id], client)).rows[0];
  const findByCode = async (namespace: string, code: string) =>
    (await query<InviteRow>("SELECT * FROM invites WHERE namespace = $1 AND code = $2", [namespace, code])).rows[0];

  // A conditional change's row, or why there is none.
  const change = async (row: InviteRow | undefined, namespace: string, id: string): Promise<ChangeResult> => {
    if (row) return { kind: "changed", invite: fromRow(row) };
    const current = await findById(namespace, id);
    return current ? { kind: "refused", invite: fromRow(current) } : { kind: "missing" };
  };

  // Closing waits for running calls: the pool, once ended, would strand them.
  return closeAfterCalls({
    async createInvite(draft) {
      try {
        return await transaction(async (client) => {
          const insert = async () =>
            (
              await query<InviteRow>(
                `INSERT INTO invites (id, namespace, group_id, email, code, state, create_time, update_time, expire_time,
                                      accept_time, revoke_time, inviter, role, metadata, max_uses, use_count)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                 ON CONFLICT (namespace, group_id, email) WHERE state = 'pending' AND email <> '' DO NOTHING
                 RETURNING *`,
                toValues(draft),
                client,
              )
            ).rows[0];
          let inserted = await insert();
          // The conflict may be a pending invite whose time has passed: it gives way to the new one.
          if (!inserted) {
            const expired = await query(
              `UPDATE invites SET state = 'expired', update_time = $1
               WHERE namespace = $2 AND group_id = $3 AND email = $4 AND state = 'pending' AND email <> '' AND expire_time <= $1`,
              [draft.createTime, draft.namespace, draft.groupId, draft.email],
              client,
            );
            if (expired.rowCount === 1) inserted = await insert();
          }
          if (inserted) return { invite: fromRow(inserted), created: true };
          // The conflicting row was committed before DO NOTHING decided, so this statement sees it.
          const existing = await query<InviteRow>(
            "SELECT * FROM invites WHERE namespace = $1 AND group_id = $2 AND email = $3 AND state = 'pending' AND email <> ''",
            [draft.namespace, draft.groupId, draft.email],
            client,
          );
          if (!existing.rows[0]) throw new Error("pending invite vanished between statements");
          return { invite: fromRow(existing.rows[0]), created: false };
        });
      } catch (err) {
        if (constraintOf(err) === "invites_code_key") throw new DuplicateCodeError("invite code already taken");
        throw err;
      }
    },

    async findInviteById(namespace, id) {
      return optionalRow(await findById(namespace, id));
    },

    async findInviteByCode(namespace, code) {
      return optionalRow(await findByCode(namespace, code));
    },

    async listInvites(q: ListQuery) {
      const values: unknown[] = [q.namespace];
      const where = ["namespace = $1"];
      const param = (value: unknown) => `$${values.push(value)}`;
      if (q.groupId !== undefined) where.push(`group_id = ${param(q.groupId)}`);
      if (q.email !== undefined) where.push(`email = ${param(q.email)}`);
      if (q.states?.length) {
        // Bound only when a condition uses it: PostgreSQL refuses an untyped, unused parameter.
        let now: string | undefined;
        const conditions = q.states.map((s) => stateConditions[s](() => (now ??= param(q.now))));
        where.push(`(${conditions.join(" OR ")})`);
      }
      if (q.after) {
        const time = param(q.after.time);
        where.push(`(create_time < ${time} OR (create_time = ${time} AND seq < ${param(q.after.seq)}))`);
      }
      // One extra row tells whether another page follows.
      const { rows } = await query<InviteRow>(
        `SELECT * FROM invites WHERE ${where.join(" AND ")} ORDER BY create_time DESC, seq DESC LIMIT ${param(q.limit + 1)}`,
        values,
      );
      return pageOf(rows, q.limit, fromRow, (row) => ({ time: row.create_time, seq: Number(row.seq) }));
    },

    async deleteInvite(namespace, id) {
      const { rowCount } = await query("DELETE FROM invites WHERE namespace = $1 AND id = $2", [namespace, id]);
      return (rowCount ?? 0) > 0;
    },

    async acceptInvite({ namespace, code, userId, email, now }) {
      const invite = await findByCode(namespace, code);
      if (!invite) return { kind: "missing" };
      const outcome = await transaction(async (client) => {
        // The acceptance first: a second call for the same user waits here for the first to commit.
        const recorded = await query(
          `INSERT INTO acceptances (invite_id, user_id, email, accept_time) VALUES ($1, $2, $3, $4)
           ON CONFLICT (invite_id, user_id) DO NOTHING RETURNING seq`,
          [invite.id, userId, email, now],
          client,
        );
        if (recorded.rowCount === 0) return "repeated" as const;
        // Row locking re-checks these conditions against any update that committed meanwhile.
        const used = await query<InviteRow>(
          `UPDATE invites SET use_count = use_count + 1, accept_time = $1, update_time = $1,
             state = CASE WHEN max_uses > 0 AND use_count + 1 >= max_uses THEN 'accepted' ELSE state END
           WHERE id = $2 AND ${usable} AND (email = '' OR email = $3)
           RETURNING *`,
          [now, invite.id, email],
          client,
        );
        if (!used.rows[0]) throw refusal;
        return used.rows[0];
      }).catch((err: unknown) => {
        if (err === refusal) return "refused" as const;
        throw err;
      });
      if (typeof outcome === "object") return { kind: "changed", invite: fromRow(outcome) };
      const current = await findById(namespace, invite.id);
      if (!current) return { kind: "missing" };
      return { kind: outcome, invite: fromRow(current) };
    },

    async revokeInvite(namespace, id, now) {
      const { rows } = await query<InviteRow>(
        `UPDATE invites SET state = 'revoked', revoke_time = $1, update_time = $1
         WHERE namespace = $2 AND id = $3 AND state IN ('pending', 'expired')
         RETURNING *`,
        [now, namespace, id],
      );
      return change(rows[0], namespace, id);
    },

    async renewInvite({ namespace, id, expireTime, code, now }) {
      try {
        const { rows } = await query<InviteRow>(
          `UPDATE invites SET state = 'pending', expire_time = $1, code = coalesce($2, code), update_time = $3
           WHERE namespace = $4 AND id = $5 AND state IN ('pending', 'expired') AND (max_uses = 0 OR use_count < max_uses)
           RETURNING *`,
          [expireTime ?? null, code ?? null, now, namespace, id],
        );
        return await change(rows[0], namespace, id);
      } catch (err) {
        if (constraintOf(err) === "invites_code_key") throw new DuplicateCodeError("invite code already taken");
        if (constraintOf(err) === "invites_pending_key") throw new PendingInviteExistsError("a pending invite for this email and group exists");
        throw err;
      }
    },

    async listAcceptances(namespace, inviteId, limit, after) {
      const values: unknown[] = [namespace, inviteId, limit + 1];
      const start = after ? `AND (a.accept_time > $4 OR (a.accept_time = $4 AND a.seq > $5))` : "";
      if (after) values.push(after.time, after.seq);
      const { rows } = await query<AcceptanceRow>(
        `SELECT a.* FROM acceptances a JOIN invites i ON i.id = a.invite_id
         WHERE i.namespace = $1 AND a.invite_id = $2 ${start}
         ORDER BY a.accept_time, a.seq LIMIT $3`,
        values,
      );
      return pageOf(rows, limit, fromAcceptanceRow, (row) => ({ time: row.accept_time, seq: Number(row.seq) }));
    },

    async purgeInvites(cutoff) {
      const { rowCount } = await query(
        `DELETE FROM invites WHERE (state = 'revoked' AND revoke_time < $1)
           OR (state = 'accepted' AND accept_time < $1)
           OR (state IN ('pending', 'expired') AND expire_time < $1)`,
        [cutoff],
      );
      return rowCount ?? 0;
    },

    async ping() {
      await query("SELECT 1", []);
    },

    async close() {
      await pool.end();
    },
  }, "postgres");
}

const refusal = Symbol("refused");

