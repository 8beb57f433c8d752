/** One invite as the store keeps it. */
export interface InviteRecord {
  id: string;
  namespace: string;
  groupId: string;
  /** Trimmed and lowercased. */
  email: string;
  /** Canonical form: uppercase Crockford base32, no separators. */
  code: string;
  createTime: Date;
}

/**
 * Position after which a page starts, in newest-first order. `seq` is the
 * store's insertion order, which breaks ties between equal create times.
 */
export interface ListCursor {
  createTime: Date;
  seq: number;
}

export interface ListQuery {
  namespace: string;
  groupId?: string;
  email?: string;
  limit: number;
  after?: ListCursor;
}

export interface ListPage {
  invites: InviteRecord[];
  /** Where the next page starts; absent on the last page. */
  next?: ListCursor;
}

export interface CreateResult {
  invite: InviteRecord;
  /** False when a pending invite for the same namespace, group and email already existed. */
  created: boolean;
}

/**
 * Storage for invites. Every method is scoped to one namespace; races are
 * settled inside the implementation by the database itself.
 */
export interface InviteStore {
  /** Inserts the draft unless a pending invite for its namespace, group and email exists. */
  createInvite(draft: InviteRecord): Promise<CreateResult>;
  findInviteById(namespace: string, id: string): Promise<InviteRecord | undefined>;
  findInviteByCode(namespace: string, code: string): Promise<InviteRecord | undefined>;
  /** At most `limit` invites, newest first: by create time, then by insertion order. */
  listInvites(query: ListQuery): Promise<ListPage>;
  /** Returns whether an invite was removed. */
  deleteInvite(namespace: string, id: string): Promise<boolean>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The generated code is already taken; the caller retries with a new one. */
export class DuplicateCodeError extends Error {
  override name = "DuplicateCodeError";
}

/** The database cannot be reached or is too busy to answer now. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}
