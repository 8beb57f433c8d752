import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  DuplicateCodeError,
  StoreUnavailableError,
  type CreateResult,
  type InviteRecord,
  type InviteStore,
  type ListPage,
  type ListQuery,
} from "../store.js";
import { sqliteMigrations } from "./migrations.js";

export interface SqliteStoreOptions {
  /** A file path, or ":memory:". */
  filename: string;
  /** How long a write waits for another process's lock before failing. */
  busyTimeoutMs?: number;
}

interface InviteRow {
  seq?: number;
  id: string;
  namespace: string;
  group_id: string;
  email: string;
  code: string;
  create_time: number;
}

const columns = "id, namespace, group_id, email, code, create_time";
const columnsWithSeq = `seq, ${columns}`;

/** Opens (creating if needed) an SQLite database and brings its schema up to date. */
export function openSqliteStore(options: SqliteStoreOptions): InviteStore {
  if (options.filename !== ":memory:") {
    mkdirSync(dirname(options.filename), { recursive: true });
  }
  const db = new Database(options.filename);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  db.pragma("foreign_keys = ON");
  migrate(db);

  const insert = db.prepare(
    `INSERT INTO invites (${columns}) VALUES (@id, @namespace, @group_id, @email, @code, @create_time)
     ON CONFLICT (namespace, group_id, email) DO NOTHING`,
  );
  const selectPending = db.prepare<[string, string, string], InviteRow>(
    `SELECT ${columns} FROM invites WHERE namespace = ? AND group_id = ? AND email = ?`,
  );
  const selectById = db.prepare<[string, string], InviteRow>(
    `SELECT ${columns} FROM invites WHERE namespace = ? AND id = ?`,
  );
  const selectByCode = db.prepare<[string, string], InviteRow>(
    `SELECT ${columns} FROM invites WHERE namespace = ? AND code = ?`,
  );
  const remove = db.prepare("DELETE FROM invites WHERE namespace = ? AND id = ?");
  const ping = db.prepare("SELECT 1");

  // One statement per combination of filters, prepared on first use.
  const listStatements = new Map<string, Database.Statement<Record<string, unknown>, InviteRow>>();
  const listInvites = (query: ListQuery): ListPage => {
    const where = ["namespace = @namespace"];
    if (query.groupId !== undefined) where.push("group_id = @groupId");
    if (query.email !== undefined) where.push("email = @email");
    if (query.after) where.push("(create_time < @afterTime OR (create_time = @afterTime AND seq < @afterSeq))");
    const sql = `SELECT ${columnsWithSeq} FROM invites WHERE ${where.join(" AND ")}
                 ORDER BY create_time DESC, seq DESC LIMIT @limit`;
    let statement = listStatements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      listStatements.set(sql, statement);
    }
    const rows = statement.all({
      namespace: query.namespace,
      groupId: query.groupId,
      email: query.email,
      afterTime: query.after?.createTime.getTime(),
      afterSeq: query.after?.seq,
      // One extra row tells whether another page follows.
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      invites: page.map(fromRow),
      next: rows.length > query.limit ? { createTime: new Date(last.create_time), seq: last.seq as number } : undefined,
    };
  };

  // IMMEDIATE takes the write lock first, so the conflicting row read back
  // after DO NOTHING cannot be deleted by another process in between.
  const createTx = db.transaction((draft: InviteRecord): CreateResult => {
    const inserted = insert.run(toRow(draft)).changes === 1;
    if (inserted) return { invite: draft, created: true };
    const existing = selectPending.get(draft.namespace, draft.groupId, draft.email);
    if (!existing) throw new Error("pending invite vanished inside a transaction");
    return { invite: fromRow(existing), created: false };
  });

  return {
    async createInvite(draft) {
      return guard(() => {
        try {
          return createTx.immediate(draft);
        } catch (err) {
          if (isUniqueViolation(err, "invites.code")) throw new DuplicateCodeError("invite code already taken");
          throw err;
        }
      });
    },
    async findInviteById(namespace, id) {
      return guard(() => optionalRow(selectById.get(namespace, id)));
    },
    async findInviteByCode(namespace, code) {
      return guard(() => optionalRow(selectByCode.get(namespace, code)));
    },
    async listInvites(query) {
      return guard(() => listInvites(query));
    },
    async deleteInvite(namespace, id) {
      return guard(() => remove.run(namespace, id).changes > 0);
    },
    async ping() {
      guard(() => ping.get());
    },
    async close() {
      if (db.open) db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  // The write lock makes a second process starting at the same time wait, then see the new version.
  db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    for (let version = current; version < sqliteMigrations.length; version++) {
      db.exec(sqliteMigrations[version]);
    }
    if (current < sqliteMigrations.length) db.pragma(`user_version = ${sqliteMigrations.length}`);
  }).immediate();
}

function guard<T>(operation: () => T): T {
  try {
    return operation();
  } catch (err) {
    if (isSqliteError(err) && /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL)/.test(err.code)) {
      throw new StoreUnavailableError(`sqlite: ${err.code}`, { cause: err });
    }
    throw err;
  }
}

// Duck-typed: better-sqlite3's errors may come from another realm (as under jest), failing instanceof.
function isSqliteError(err: unknown): err is { code: string; message: string } {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return typeof code === "string" && code.startsWith("SQLITE_") && typeof message === "string";
}

function isUniqueViolation(err: unknown, column: string): boolean {
  return isSqliteError(err) && err.code === "SQLITE_CONSTRAINT_UNIQUE" && err.message.includes(column);
}

function optionalRow(row: InviteRow | undefined): InviteRecord | undefined {
  return row ? fromRow(row) : undefined;
}

function toRow(invite: InviteRecord): InviteRow {
  return {
    id: invite.id,
    namespace: invite.namespace,
    group_id: invite.groupId,
    email: invite.email,
    code: invite.code,
    create_time: invite.createTime.getTime(),
  };
}

function fromRow(row: InviteRow): InviteRecord {
  return {
    id: row.id,
    namespace: row.namespace,
    groupId: row.group_id,
    email: row.email,
    code: row.code,
    createTime: new Date(row.create_time),
  };
}
