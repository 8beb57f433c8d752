import { durationMs, timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { type Acceptance, type CreateRequest, type Invite, type InvitesService, type RenewRequest } from "../../gen/invites/v1/invites_pb.js";
import { Reason, notFound, rpcError } from "../errors.js";
import { DuplicateCodeError, PendingInviteExistsError, type AcceptanceRecord, type InviteRecord, type InviteStore } from "../store/store.js";
import { normalizeEmail } from "./email.js";
import { newInviteId } from "./invite-id.js";
import { generateInviteCode, normalizeInviteCode } from "./invite-code.js";
import { LifecycleReason, acceptRefusal, changeRefusal, effectiveState, listStateOf } from "./lifecycle.js";
import { namespaceKey } from "./namespace.js";
import { decodePageToken, encodePageToken } from "./page-token.js";

const defaultPageSize = 100;
const maxPageSize = 1000;
// A 60-bit code collides so rarely that a few tries are only ever one.
const codeAttempts = 5;

export interface InvitesServiceOptions {
  store: InviteStore;
  /** The current time; injectable so tests can move it. */
  now?: () => Date;
  /** How long an invite lives when Create or Renew names no expiry (DEFAULT_TTL). */
  defaultTtlMs: number;
}

/** The `expiration` oneof, which CreateRequest and RenewRequest share. */
type Expiration = CreateRequest["expiration"] | RenewRequest["expiration"];

/**
 * The handlers of invites.v1.InvitesService. Requests arrive validated (by
 * the proto's rules) and with their namespace resolved (by the access
 * interceptor).
 */
export function createInvitesService(options: InvitesServiceOptions): ServiceImpl<typeof InvitesService> {
  const { store, now = () => new Date(), defaultTtlMs } = options;

  const expiryFrom = (expiration: Expiration, at: Date): Date | undefined => {
    switch (expiration.case) {
      case "ttl":
        return new Date(at.getTime() + durationMs(expiration.value));
      case "expireTime":
        return timestampDate(expiration.value);
      case "neverExpires":
        return undefined;
      default:
        return new Date(at.getTime() + defaultTtlMs);
    }
  };

  // Retries the rare clash of a fresh code with an existing one.
  const withFreshCode = async <T>(attempt: (code: string) => Promise<T>): Promise<T> => {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt(generateInviteCode());
      } catch (err) {
        if (!(err instanceof DuplicateCodeError) || tries === codeAttempts) throw err;
      }
    }
  };

  return {
    async create(req, ctx) {
      const at = now();
      const id = newInviteId(at.getTime());
      const namespace = namespaceOf(ctx);
      const email = normalizeEmail(req.email);
      const expireTime = expiryFrom(req.expiration, at);
      // A literal, not `{ ...draft, code }`: V8 gives an object spread
      // followed by a new property a hidden class of its own each time, so
      // every later read of the invite's fields missed V8's caches (9 % of a
      // Create's instructions, bench/instructions.js).
      const draft = (code: string): InviteRecord => ({
        id,
        namespace,
        groupId: req.groupId,
        email,
        code,
        state: "pending",
        createTime: at,
        updateTime: at,
        expireTime,
        inviter: req.inviter,
        role: req.role,
        metadata: req.metadata,
        maxUses: req.maxUses ?? 1,
        useCount: 0,
      });
      const { invite } = await withFreshCode((code) => store.createInvite(draft(code)));
      return { invite: toProto(invite, at) };
    },

    async read(req, ctx) {
      const namespace = namespaceOf(ctx);
      const code = req.code === "" ? undefined : normalizeInviteCode(req.code);
      if (req.code !== "" && code === undefined) throw notFound();
      const invite =
        req.id !== ""
          ? await store.findInviteById(namespace, req.id)
          : await store.findInviteByCode(namespace, code as string);
      // Given both, both must name the same invite.
      if (!invite || (code !== undefined && invite.code !== code)) throw notFound();
      return { invite: toProto(invite, now()) };
    },

    async list(req, ctx) {
      const query = {
        namespace: namespaceOf(ctx),
        groupId: req.groupId === "" ? undefined : req.groupId,
        email: req.email === "" ? undefined : normalizeEmail(req.email),
        states: req.states.length ? [...req.states].sort().map(listStateOf) : undefined,
      };
      const at = now();
      // The spread last: a spread followed by new properties gets a hidden class of its own each time (see create).
      const page = await store.listInvites({ limit: pageSizeOf(req.pageSize), after: pageStart(req.pageToken, query), now: at, ...query });
      return {
        invites: page.items.map((invite) => toProto(invite, at)),
        nextPageToken: page.next ? encodePageToken(page.next, query) : "",
      };
    },

    async delete(req, ctx) {
      await store.deleteInvite(namespaceOf(ctx), req.id);
      return {};
    },

    async accept(req, ctx) {
      const at = now();
      const code = normalizeInviteCode(req.code);
      if (code === undefined) throw notFound();
      const email = normalizeEmail(req.email);
      const result = await store.acceptInvite({ namespace: namespaceOf(ctx), code, userId: req.userId, email, now: at });
      switch (result.kind) {
        case "missing":
          throw notFound();
        case "refused":
          throw acceptRefusal(result.invite, email, at);
        default:
          return { invite: toProto(result.invite, at) };
      }
    },

    async revoke(req, ctx) {
      const at = now();
      const result = await store.revokeInvite(namespaceOf(ctx), req.id, at);
      // Revoking twice is not an error: the invite is revoked, as asked.
      if (result.kind === "changed" || (result.kind === "refused" && result.invite.state === "revoked")) {
        return { invite: toProto(result.invite, at) };
      }
      throw changeRefusal(result.kind === "refused" ? result.invite : undefined);
    },

    async renew(req, ctx) {
      const at = now();
      const renew = (code?: string) =>
        store.renewInvite({ namespace: namespaceOf(ctx), id: req.id, expireTime: expiryFrom(req.expiration, at), code, now: at });
      let result;
      try {
        result = req.rotateCode ? await withFreshCode(renew) : await renew();
      } catch (err) {
        if (!(err instanceof PendingInviteExistsError)) throw err;
        throw rpcError(Code.FailedPrecondition, LifecycleReason.alreadyPending, "another pending invite exists for this email and group");
      }
      if (result.kind === "changed") return { invite: toProto(result.invite, at) };
      throw changeRefusal(result.kind === "refused" ? result.invite : undefined);
    },

    async listAcceptances(req, ctx) {
      const namespace = namespaceOf(ctx);
      if (!(await store.findInviteById(namespace, req.id))) throw notFound();
      const query = { namespace, inviteId: req.id };
      const page = await store.listAcceptances(namespace, req.id, pageSizeOf(req.pageSize), pageStart(req.pageToken, query));
      return {
        acceptances: page.items.map(acceptanceToProto),
        nextPageToken: page.next ? encodePageToken(page.next, query) : "",
      };
    },
  };
}

function namespaceOf(ctx: HandlerContext): string {
  return ctx.values.get(namespaceKey);
}

function pageSizeOf(requested: number): number {
  return Math.min(requested || defaultPageSize, maxPageSize);
}

function pageStart(token: string, query: object) {
  if (token === "") return undefined;
  const cursor = decodePageToken(token, query);
  if (!cursor) {
    throw rpcError(Code.InvalidArgument, Reason.invalidPageToken, "page_token: not a token from a previous page of this query", {
      field: "page_token",
    });
  }
  return cursor;
}

// Messages are written as literals: create() walks the schema by reflection
// (≈ 1.5 µs an invite here, which a List of 100 pays a hundred times), and the
// message types make the compiler check that every field is given.
function timestamp(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

const optionalTimestamp = (date: Date | undefined) => (date ? timestamp(date) : undefined);

function toProto(record: InviteRecord, now: Date): Invite {
  return {
    $typeName: "invites.v1.Invite",
    id: record.id,
    groupId: record.groupId,
    email: record.email,
    code: record.code,
    createTime: timestamp(record.createTime),
    state: effectiveState(record, now),
    updateTime: timestamp(record.updateTime),
    expireTime: optionalTimestamp(record.expireTime),
    acceptTime: optionalTimestamp(record.acceptTime),
    revokeTime: optionalTimestamp(record.revokeTime),
    inviter: record.inviter,
    role: record.role,
    metadata: record.metadata,
    maxUses: record.maxUses,
    useCount: record.useCount,
  };
}

function acceptanceToProto(record: AcceptanceRecord): Acceptance {
  return {
    $typeName: "invites.v1.Acceptance",
    inviteId: record.inviteId,
    userId: record.userId,
    email: record.email,
    acceptTime: timestamp(record.acceptTime),
  };
}
