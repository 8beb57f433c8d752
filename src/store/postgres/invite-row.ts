import type { AcceptanceRecord, InviteRecord, StoredState } from "../store.js";

/** An invites row as pg returns it: timestamps as Dates, metadata parsed from jsonb, seq (bigint) as text. */
export interface InviteRow {
  seq: string;
  id: string;
  namespace: string;
  group_id: string;
  email: string;
  code: string;
  state: StoredState;
  create_time: Date;
  update_time: Date;
  expire_time: Date | null;
  accept_time: Date | null;
  revoke_time: Date | null;
  inviter: string;
  role: string;
  metadata: Record<string, string>;
  max_uses: number;
  use_count: number;
}

export interface AcceptanceRow {
  seq: string;
  invite_id: string;
  user_id: string;
  email: string;
  accept_time: Date;
}

export function optionalRow(row: InviteRow | undefined): InviteRecord | undefined {
  return row ? fromRow(row) : undefined;
}

export function toValues(invite: InviteRecord): unknown[] {
  return [
    invite.id,
    invite.namespace,
    invite.groupId,
    invite.email,
    invite.code,
    invite.state,
    invite.createTime,
    invite.updateTime,
    invite.expireTime ?? null,
    invite.acceptTime ?? null,
    invite.revokeTime ?? null,
    invite.inviter,
    invite.role,
    JSON.stringify(invite.metadata),
    invite.maxUses,
    invite.useCount,
  ];
}

export function fromRow(row: InviteRow): InviteRecord {
  const record: InviteRecord = {
    id: row.id,
    namespace: row.namespace,
    groupId: row.group_id,
    email: row.email,
    code: row.code,
    state: row.state,
    createTime: row.create_time,
    updateTime: row.update_time,
    inviter: row.inviter,
    role: row.role,
    metadata: row.metadata,
    maxUses: row.max_uses,
    useCount: row.use_count,
  };
  // Absent rather than undefined, so records compare equal to what was stored.
  if (row.expire_time !== null) record.expireTime = row.expire_time;
  if (row.accept_time !== null) record.acceptTime = row.accept_time;
  if (row.revoke_time !== null) record.revokeTime = row.revoke_time;
  return record;
}

export function fromAcceptanceRow(row: AcceptanceRow): AcceptanceRecord {
  return { inviteId: row.invite_id, userId: row.user_id, email: row.email, acceptTime: row.accept_time };
}
