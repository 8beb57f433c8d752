import type Database from "better-sqlite3";
import type { InviteRecord, StoredState } from "../store.js";

/** The columns every invite statement names, after `seq`, with `metadata` as `M`. */
type StoredColumns<M> = [
  id: string,
  namespace: string,
  group_id: string,
  email: string,
  code: string,
  state: StoredState,
  create_time: number,
  update_time: number,
  expire_time: number | null,
  accept_time: number | null,
  revoke_time: number | null,
  inviter: string,
  role: string,
  metadata: M,
  max_uses: number,
  use_count: number,
];

/**
 * An invites row as the values of `inviteColumns`, in order, with metadata
 * parsed. SQLite answers it as one JSON array (`inviteJson`) which one
 * JSON.parse reads: better-sqlite3 builds a row, object or array, one
 * property at a time through V8's slow path, and a point read of the 17
 * columns cost ≈ 1.4 µs more that way (6.8 against 5.4 µs), which a List of
 * 100 pays a hundred times.
 */
export type InviteValues = [seq: number, ...columns: StoredColumns<Record<string, string>>];

export const inviteColumns =
  "seq, id, namespace, group_id, email, code, state, create_time, update_time, expire_time, accept_time, revoke_time, inviter, role, metadata, max_uses, use_count";

/** The select list that answers an invite as one JSON array text: `inviteColumns`, metadata as JSON rather than text. */
export const inviteJson = `json_array(${inviteColumns.replace("metadata", "json(metadata)")})`;

/** A statement whose single result column is `inviteJson`, answering `InviteValues`. */
export interface InvitesStatement<P extends unknown[]> {
  get(...params: P): InviteValues | undefined;
  all(...params: P): InviteValues[];
}

export function invitesStatement<P extends unknown[] | Record<string, unknown>>(
  db: Database.Database,
  sql: string,
): InvitesStatement<P extends unknown[] ? P : [P]> {
  const statement = db.prepare<unknown[], string>(sql).pluck(true);
  return {
    get(...params) {
      const text = statement.get(...params);
      return text === undefined ? undefined : (JSON.parse(text) as InviteValues);
    },
    all(...params) {
      return statement.all(...params).map((text) => JSON.parse(text) as InviteValues);
    },
  };
}

/** The columns an INSERT names, in the order of `InsertValues`. */
export const insertColumns = inviteColumns.replace("seq, ", "");

/**
 * An invite's values for `insertColumns`, bound by position: better-sqlite3
 * finds each named parameter on the object through V8's slow path, and
 * binding sixteen by name cost about 2.4 µs an insert more (6.0 against
 * 3.7 µs, in better-sqlite3 alone).
 */
export type InsertValues = StoredColumns<string>;

/** A list cursor's place: creation time and sequence number. */
export function cursorOf([seq, , , , , , , createTime]: InviteValues): { time: Date; seq: number } {
  return { time: new Date(createTime), seq };
}

export function toInsertValues(invite: InviteRecord): InsertValues {
  return [
    invite.id,
    invite.namespace,
    invite.groupId,
    invite.email,
    invite.code,
    invite.state,
    invite.createTime.getTime(),
    invite.updateTime.getTime(),
    time(invite.expireTime),
    time(invite.acceptTime),
    time(invite.revokeTime),
    invite.inviter,
    invite.role,
    JSON.stringify(invite.metadata),
    invite.maxUses,
    invite.useCount,
  ];
}

export function fromRow(values: InviteValues): InviteRecord {
  const [, id, namespace, groupId, email, code, state, createTime, updateTime, expireTime, acceptTime, revokeTime, inviter, role, metadata, maxUses, useCount] =
    values;
  const record: InviteRecord = {
    id,
    namespace,
    groupId,
    email,
    code,
    state,
    createTime: new Date(createTime),
    updateTime: new Date(updateTime),
    inviter,
    role,
    metadata,
    maxUses,
    useCount,
  };
  // Absent rather than undefined, so records compare equal to what was stored.
  if (expireTime !== null) record.expireTime = new Date(expireTime);
  if (acceptTime !== null) record.acceptTime = new Date(acceptTime);
  if (revokeTime !== null) record.revokeTime = new Date(revokeTime);
  return record;
}

const time = (date: Date | undefined) => date?.getTime() ?? null;
