import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  StoreUnavailableError,
  type AcceptanceRecord,
  type AcceptResult,
  type ChangeResult,
  type InviteRecord,
  type InviteStore,
  type ListQuery,
  type ListState,
  type Page,
} from "../store.js";
import { pageOf } from "../page.js";
import { offloadCheckpoints, type Checkpointer } from "./checkpointer.js";
import { shareDatabaseFile, type SharedDatabaseFile } from "./database-file.js";
import { createGroupCommit, type GroupCommit } from "./group-commit.js";
import { cursorOf, fromRow, insertColumns, inviteJson, invitesStatement as prepareInvites, toInsertValues, type InsertValues, type InviteValues } from "./invite-row.js";
import { migrate } from "./migrations.js";
import { guard, retryWhileBusy, storeError } from "./sqlite-errors.js";

export interface SqliteStoreOptions {
  /** A file path, or ":memory:". */
  filename: string;
  /** How long a write waits for another process's lock before failing. */
  busyTimeoutMs?: number;
  /** WAL pages past which a commit checkpoints itself (default 16,384: 64 MiB of 4 KiB pages). */
  maxWalPages?: number;
  /**
   * WAL pages past which the checkpoint worker restarts the WAL, holding writes
   * briefly (default 4,096); at or past `maxWalPages`, commits get there first.
   */
  walRestartPages?: number;
  /** How often the checkpoint worker copies the WAL into the file (default 250 ms). */
  checkpointIntervalMs?: number;
  /**
   * While writes keep coming, how long a write may wait for others to share its
   * commit (default 1 ms; 0: none). See createGroupCommit.
   */
  commitWindowMs?: number;
  /**
   * How much of the file reads reach through a memory map (default 1 GiB,
   * at most 2 GiB; 0: none, and a page not in the 16 MB page cache is read with a system call).
   */
  mmapBytes?: number;
  /** Told how long each restart of the WAL held writes, in seconds (see offloadCheckpoints). */
  onWritesHeld?: (seconds: number) => void;
}

interface AcceptanceRow {
  seq: number;
  invite_id: string;
  user_id: string;
  email: string;
  accept_time: number;
}

/**
 * A bound LIMIT as an expression rather than a bare parameter. SQLite (3.53
 * here) reads a bare parameter's value while planning and marks the statement
 * to be prepared again whenever that parameter is bound, which better-sqlite3
 * does on every run. A List of 100 spent ≈ 88,000 instructions (8 % of the
 * statement's run, in callgrind) preparing it again. The plans of the nine
 * List filter combinations compared with EXPLAIN QUERY PLAN are the same.
 */
const limitParameter = "+@limit";

// An invite is usable while pending, unexpired and not used up.
const usable = "state = 'pending' AND (expire_time IS NULL OR expire_time > @now) AND (max_uses = 0 OR use_count < max_uses)";

const stateConditions: Record<ListState, string> = {
  pending: "(state = 'pending' AND (expire_time IS NULL OR expire_time > @now))",
  expired: "(state = 'expired' OR (state = 'pending' AND expire_time <= @now))",
  accepted: "state = 'accepted'",
  revoked: "state = 'revoked'",
};

/** Opens (creating if needed) an SQLite database and brings its schema up to date. */
export function openSqliteStore(options: SqliteStoreOptions): InviteStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const maxWalPages = options.maxWalPages ?? 16_384;
  const restartPages = options.walRestartPages ?? 4096;
  const intervalMs = options.checkpointIntervalMs ?? 250;
  const mmapBytes = options.mmapBytes ?? 2 ** 30;
  // 0 would turn the backstop off, and the value goes into a PRAGMA.
  if (!Number.isInteger(maxWalPages) || maxWalPages < 1) throw new TypeError(`maxWalPages must be a positive integer, got ${maxWalPages}`);
  if (!Number.isInteger(restartPages) || restartPages < 1) throw new TypeError(`walRestartPages must be a positive integer, got ${restartPages}`);
  // setInterval runs anything outside 1 ms to 2^31 - 1 ms every millisecond.
  if (!(intervalMs >= 1 && intervalMs <= 2 ** 31 - 1)) throw new TypeError(`checkpointIntervalMs must be from 1 to 2^31 - 1, got ${intervalMs}`);
  // SQLite silently caps a larger map at its own limit, just under 2 GiB.
  if (!Number.isInteger(mmapBytes) || mmapBytes < 0 || mmapBytes > 2 ** 31) throw new TypeError(`mmapBytes must be a whole number from 0 to 2^31, got ${mmapBytes}`);
  // ":memory:" and "" (a temporary database) are private to this connection, with no file of ours.
  const inFile = options.filename !== ":memory:" && options.filename !== "";
  if (inFile) mkdirSync(dirname(options.filename), { recursive: true });
  const db = new Database(options.filename);
  let commit: GroupCommit;
  let databaseFile: SharedDatabaseFile | undefined;
  let checkpointer: Checkpointer | undefined;
  try {
    databaseFile = inFile ? shareDatabaseFile(options.filename) : undefined;
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    if (inFile && mmapBytes > 0) {
      // Pages read through the map need no system call, no copy and no place in
      // the page cache, which is then left mostly to the pages writes change,
      // and is better small: a commit that split a B-tree page (three of the
      // indexes are in random order) ends by walking every page the cache
      // holds, since the split moved a page through a number past the file's
      // end. Under Creates that walk was 3.3 % of the CPU with the driver's
      // 16 MB cache.
      db.pragma(`mmap_size = ${mmapBytes}`);
      db.pragma("cache_size = -2000");
    }
    // SQLite answers BUSY at once, without the busy handler, when two processes
    // switch a new file to WAL together; so start-up retries for a while.
    retryWhileBusy(busyTimeoutMs, () => {
      db.pragma("journal_mode = WAL");
      migrate(db);
    });
    commit = createGroupCommit(db, { windowMs: options.commitWindowMs ?? 1 });
    checkpointer =
      databaseFile &&
      offloadCheckpoints(db, commit, {
        filename: options.filename,
        databaseFd: databaseFile.fd,
        busyTimeoutMs,
        intervalMs,
        maxWalPages,
        restartPages,
        onWritesHeld: options.onWritesHeld,
      });
  } catch (err) {
    // No worker is running yet (starting it is the last step), so nothing else holds the file.
    db.close();
    databaseFile?.release();
    throw err;
  }

  const statement = <P extends unknown[] | Record<string, unknown>, R = unknown>(sql: string) => db.prepare<P, R>(sql);
  // Statements that answer with invites select inviteJson: see InviteValues.
  const invitesStatement = <P extends unknown[] | Record<string, unknown>>(sql: string) => prepareInvites<P>(db, sql);
  const expirePending = statement<Record<string, unknown>>(
    `UPDATE invites SET state = 'expired', update_time = @now
     WHERE namespace = @namespace AND group_id = @group_id AND email = @email AND state = 'pending' AND email <> ''
       AND expire_time <= @now`,
  );
  const insert = statement<[InsertValues]>(
    `INSERT INTO invites (${insertColumns})
     VALUES (${insertColumns.split(", ").map(() => "?").join(", ")})
     ON CONFLICT (namespace, group_id, email) WHERE state = 'pending' AND email <> '' DO NOTHING`,
  );
  const selectPending = invitesStatement<[string, string, string]>(
    // The partial index's own terms, so SQLite can use it.
    `SELECT ${inviteJson} FROM invites WHERE namespace = ? AND group_id = ? AND email = ? AND state = 'pending' AND email <> ''`,
  );
  const selectById = invitesStatement<[string, string]>(`SELECT ${inviteJson} FROM invites WHERE namespace = ? AND id = ?`);
  const selectByCode = invitesStatement<[string, string]>(`SELECT ${inviteJson} FROM invites WHERE namespace = ? AND code = ?`);
  const remove = statement<[string, string]>("DELETE FROM invites WHERE namespace = ? AND id = ?");
  const selectAcceptance = statement<[string, string], { seq: number }>(
    "SELECT seq FROM acceptances WHERE invite_id = ? AND user_id = ?",
  );
  const useOnce = invitesStatement<Record<string, unknown>>(
    `UPDATE invites SET use_count = use_count + 1, accept_time = @now, update_time = @now,
       state = CASE WHEN max_uses > 0 AND use_count + 1 >= max_uses THEN 'accepted' ELSE state END
     WHERE id = @id AND ${usable} AND (email = '' OR email = @email)
     RETURNING ${inviteJson}`,
  );
  const insertAcceptance = statement<Record<string, unknown>>(
    "INSERT INTO acceptances (invite_id, user_id, email, accept_time) VALUES (@invite_id, @user_id, @email, @now)",
  );
  const revoke = invitesStatement<Record<string, unknown>>(
    `UPDATE invites SET state = 'revoked', revoke_time = @now, update_time = @now
     WHERE namespace = @namespace AND id = @id AND state IN ('pending', 'expired')
     RETURNING ${inviteJson}`,
  );
  const renew = invitesStatement<Record<string, unknown>>(
    `UPDATE invites SET state = 'pending', expire_time = @expire_time, code = coalesce(@code, code), update_time = @now
     WHERE namespace = @namespace AND id = @id AND state IN ('pending', 'expired') AND (max_uses = 0 OR use_count < max_uses)
     RETURNING ${inviteJson}`,
  );
  const purge = statement<Record<string, unknown>>(
    `DELETE FROM invites WHERE (state = 'revoked' AND revoke_time < @cutoff)
       OR (state = 'accepted' AND accept_time < @cutoff)
       OR (state IN ('pending', 'expired') AND expire_time < @cutoff)`,
  );
  const ping = db.prepare("SELECT 1");

  // Prepared on first use: one statement per combination of filters.
  const prepared = new Map<string, unknown>();
  const preparedOnce = <S>(sql: string, prepare: (sql: string) => S): S => {
    let found = prepared.get(sql) as S | undefined;
    if (!found) prepared.set(sql, (found = prepare(sql)));
    return found;
  };

  // Writes run inside the group commit's IMMEDIATE transaction, which takes
  // the write lock first, so what they read cannot change under them, in this
  // process or another.
  //
  // A Create is one statement, atomic by itself, so it opens no savepoint:
  // in WAL mode a savepoint copies every page it changes into its journal,
  // ~6 % of a Create. Only replacing an expired pending invite writes twice,
  // and that rare pair gets one.
  const replaceExpired = db.transaction((draft: InviteRecord, values: InsertValues) => {
    const pending = { namespace: draft.namespace, group_id: draft.groupId, email: draft.email, now: draft.createTime.getTime() };
    return expirePending.run(pending).changes === 1 && insert.run(values).changes === 1;
  });
  const createInGroup = (draft: InviteRecord) => {
    const values = toInsertValues(draft);
    const created = { invite: draft, created: true };
    if (insert.run(values).changes === 1) return created;
    // The conflict may be a pending invite whose time has passed: it gives way to the new one.
    if (replaceExpired(draft, values)) return created;
    const existing = selectPending.get(draft.namespace, draft.groupId, draft.email);
    if (!existing) throw new Error("pending invite vanished inside a transaction");
    return { invite: fromRow(existing), created: false };
  };

  const acceptTx = db.transaction((input: { namespace: string; code: string; userId: string; email: string; now: number }): AcceptResult => {
    const found = selectByCode.get(input.namespace, input.code);
    if (!found) return { kind: "missing" };
    const [, id] = found;
    if (selectAcceptance.get(id, input.userId)) return { kind: "repeated", invite: fromRow(found) };
    const used = useOnce.get({ id, email: input.email, now: input.now });
    if (!used) return { kind: "refused", invite: fromRow(found) };
    insertAcceptance.run({ invite_id: id, user_id: input.userId, email: input.email, now: input.now });
    return { kind: "changed", invite: fromRow(used) };
  });

  // Reads are grouped too: in WAL mode, starting a read transaction costs more than a point read itself.
  const readTogether = createGroupCommit(db, { lock: "deferred" });
  let closing: Promise<void> | undefined;
  // Once close() has begun, calls fail as the store being away, not with the driver's TypeError.
  const closedError = () => Promise.reject(new StoreUnavailableError("sqlite store closed"));
  const grouped =
    (group: GroupCommit) =>
    <T>(operation: () => T): Promise<T> =>
      closing ? closedError() : group(operation).catch((err: unknown) => Promise.reject(storeError(err)));
  const write = grouped(commit);
  const read = grouped(readTogether);
  // Outside any group: the operation runs now, as its own transaction.
  const atOnce = <T>(operation: () => T): T | Promise<never> => (closing ? closedError() : guard(operation));

  const change = (row: InviteValues | undefined, namespace: string, id: string): ChangeResult => {
    if (row) return { kind: "changed", invite: fromRow(row) };
    const current = selectById.get(namespace, id);
    return current ? { kind: "refused", invite: fromRow(current) } : { kind: "missing" };
  };

  return {
    async createInvite(draft) {
      return write(() => createInGroup(draft));
    },
    async findInviteById(namespace, id) {
      return read(() => optionalRow(selectById.get(namespace, id)));
    },
    async findInviteByCode(namespace, code) {
      return read(() => optionalRow(selectByCode.get(namespace, code)));
    },
    // A List reads a page of rows, next to which a read transaction's start
    // costs little, so it runs at once. Grouped, every List that arrived in a
    // turn waited in the heap for the group, and with 128 or more in flight
    // over HTTP/2 their requests outlived young collections, which took
    // 10–50 ms: gRPC Lists of 100 were about 1.5 times slower.
    async listInvites(query) {
      return atOnce(() => listInvites(query));
    },
    async deleteInvite(namespace, id) {
      return write(() => remove.run(namespace, id).changes > 0);
    },
    async acceptInvite(input) {
      return write(() => acceptTx({ ...input, now: input.now.getTime() }));
    },
    async revokeInvite(namespace, id, now) {
      return write(() => change(revoke.get({ namespace, id, now: now.getTime() }), namespace, id));
    },
    async renewInvite(input) {
      return write(() => {
        const row = renew.get({
          namespace: input.namespace,
          id: input.id,
          expire_time: input.expireTime?.getTime() ?? null,
          code: input.code ?? null,
          now: input.now.getTime(),
        });
        return change(row, input.namespace, input.id);
      });
    },
    // Not grouped, as listInvites.
    async listAcceptances(namespace, inviteId, limit, after) {
      return atOnce(() => listAcceptances(namespace, inviteId, limit, after));
    },
    async purgeInvites(cutoff) {
      return atOnce(() => purge.run({ cutoff: cutoff.getTime() }).changes);
    },
    async ping() {
      await atOnce(() => ping.get());
    },
    close() {
      closing ??= (async () => {
        // What was queued before close() commits first (markers queued last run after it).
        await Promise.allSettled([commit(() => undefined), readTogether(() => undefined)]);
        await checkpointer?.stop();
        db.close();
        databaseFile?.release();
      })();
      return closing;
    },
  };

  function listInvites(query: ListQuery): Page<InviteRecord> {
    const where = ["namespace = @namespace"];
    if (query.groupId !== undefined) where.push("group_id = @groupId");
    if (query.email !== undefined) where.push("email = @email");
    if (query.states?.length) where.push(`(${query.states.map((s) => stateConditions[s]).join(" OR ")})`);
    if (query.after) where.push("(create_time < @afterTime OR (create_time = @afterTime AND seq < @afterSeq))");
    const rows = preparedOnce(
      `SELECT ${inviteJson} FROM invites WHERE ${where.join(" AND ")} ORDER BY create_time DESC, seq DESC LIMIT ${limitParameter}`,
      invitesStatement<Record<string, unknown>>,
    ).all({
      namespace: query.namespace,
      groupId: query.groupId,
      email: query.email,
      now: query.now.getTime(),
      afterTime: query.after?.time.getTime(),
      afterSeq: query.after?.seq,
      // One extra row tells whether another page follows.
      limit: query.limit + 1,
    });
    return pageOf(rows, query.limit, fromRow, cursorOf);
  }

  function listAcceptances(namespace: string, inviteId: string, limit: number, after?: { time: Date; seq: number }): Page<AcceptanceRecord> {
    const rows = preparedOnce(
      `SELECT a.* FROM acceptances a JOIN invites i ON i.id = a.invite_id
       WHERE i.namespace = @namespace AND a.invite_id = @inviteId
         ${after ? "AND (a.accept_time > @afterTime OR (a.accept_time = @afterTime AND a.seq > @afterSeq))" : ""}
       ORDER BY a.accept_time, a.seq LIMIT ${limitParameter}`,
      (sql) => db.prepare<Record<string, unknown>, AcceptanceRow>(sql),
    ).all({ namespace, inviteId, afterTime: after?.time.getTime(), afterSeq: after?.seq, limit: limit + 1 });
    return pageOf(rows, limit, fromAcceptanceRow, (row) => ({ time: new Date(row.accept_time), seq: row.seq }));
  }
}

function optionalRow(row: InviteValues | undefined): InviteRecord | undefined {
  return row ? fromRow(row) : undefined;
}

function fromAcceptanceRow(row: AcceptanceRow): AcceptanceRecord {
  return { inviteId: row.invite_id, userId: row.user_id, email: row.email, acceptTime: new Date(row.accept_time) };
}
