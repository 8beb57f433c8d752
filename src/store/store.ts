/** What the store keeps as an invite's state. EXPIRED is also derived from expireTime when read. */
export type StoredState = "pending" | "accepted" | "revoked" | "expired";

/** One invite as the store keeps it. */
export interface InviteRecord {
  id: string;
  namespace: string;
  groupId: string;
  /** Trimmed and lowercased; empty for an open link. */
  email: string;
  /** Canonical form: uppercase Crockford base32, no separators. */
  code: string;
  state: StoredState;
  createTime: Date;
  updateTime: Date;
  /** Undefined: never expires. */
  expireTime?: Date;
  acceptTime?: Date;
  revokeTime?: Date;
  inviter: string;
  role: string;
  metadata: Record<string, string>;
  /** 0: no limit. */
  maxUses: number;
  useCount: number;
}

export interface AcceptanceRecord {
  inviteId: string;
  userId: string;
  email: string;
  acceptTime: Date;
}

/**
 * Position after which a page starts. `seq` is the store's insertion order,
 * which breaks ties between equal times.
 */
export interface ListCursor {
  time: Date;
  seq: number;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts; absent on the last page. */
  next?: ListCursor;
}

/** A state as a List filter sees it: expired includes pending invites past their expire time. */
export type ListState = StoredState;

export interface ListQuery {
  namespace: string;
  groupId?: string;
  email?: string;
  states?: ListState[];
  limit: number;
  after?: ListCursor;
  /** The time against which expiry is judged. */
  now: Date;
}

export interface CreateResult {
  invite: InviteRecord;
  /** False when a pending, unexpired invite for the same namespace, group and email already existed. */
  created: boolean;
}

/** The outcome of a conditional change. */
export type ChangeResult =
  | { kind: "changed"; invite: InviteRecord }
  /** The invite exists but the change's conditions did not hold; here it is as it is. */
  | { kind: "refused"; invite: InviteRecord }
  | { kind: "missing" };

export type AcceptResult = ChangeResult | { kind: "repeated"; invite: InviteRecord };

export interface AcceptInput {
  namespace: string;
  code: string;
  userId: string;
  /** Normalised; must equal the invite's email unless that is empty. */
  email: string;
  now: Date;
}

export interface RenewInput {
  namespace: string;
  id: string;
  /** Undefined: never expires. */
  expireTime: Date | undefined;
  /** A new code to replace the old one, if rotating. */
  code?: string;
  now: Date;
}

/**
 * Storage for invites. Every method but purge is scoped to one namespace;
 * races are settled inside the implementation by the database itself.
 */
export interface InviteStore {
  /** Inserts the draft unless a pending, unexpired invite for its namespace, group and email exists. */
  createInvite(draft: InviteRecord): Promise<CreateResult>;
  findInviteById(namespace: string, id: string): Promise<InviteRecord | undefined>;
  findInviteByCode(namespace: string, code: string): Promise<InviteRecord | undefined>;
  /** At most `limit` invites, newest first: by create time, then by insertion order. */
  listInvites(query: ListQuery): Promise<Page<InviteRecord>>;
  /** Returns whether an invite was removed, with its acceptances. */
  deleteInvite(namespace: string, id: string): Promise<boolean>;
  /**
   * Uses the invite once for the user, in one atomic step: only while it is
   * pending, unexpired, not used up, and bound to no email or to this one.
   * A user who already accepted gets "repeated" and uses nothing.
   */
  acceptInvite(input: AcceptInput): Promise<AcceptResult>;
  /** Revokes a pending (or expired) invite. */
  revokeInvite(namespace: string, id: string, now: Date): Promise<ChangeResult>;
  /** Sets a new expiry (and maybe code) on a pending or expired invite, making it pending. */
  renewInvite(input: RenewInput): Promise<ChangeResult>;
  /** Oldest first. */
  listAcceptances(namespace: string, inviteId: string, limit: number, after?: ListCursor): Promise<Page<AcceptanceRecord>>;
  /** Deletes invites revoked, used up or expired before the cutoff; returns how many. */
  purgeInvites(cutoff: Date): Promise<number>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The generated code is already taken; the caller retries with a new one. */
export class DuplicateCodeError extends Error {
  override name = "DuplicateCodeError";
}

/** Renewing would make a second pending invite for the same namespace, group and email. */
export class PendingInviteExistsError extends Error {
  override name = "PendingInviteExistsError";
}

/** The database cannot be reached or is too busy to answer now. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/** The database holds a schema from a newer build: this one would misread or undo it, so it does not start. */
export class NewerSchemaError extends Error {
  override name = "NewerSchemaError";
}

export function newerSchemaError(stored: number, known: number): NewerSchemaError {
  return new NewerSchemaError(`the database's schema is version ${stored}, newer than this build's ${known}; run a build that knows version ${stored}`);
}
