import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { InviteSchema, type Invite, type InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { Reason, notFound, rpcError } from "../errors.js";
import { DuplicateCodeError, type InviteRecord, type InviteStore } from "../store/store.js";
import { normalizeEmail } from "./email.js";
import { generateInviteCode, normalizeInviteCode } from "./invite-code.js";
import { namespaceKey } from "./namespace.js";
import { decodePageToken, encodePageToken } from "./page-token.js";

export const defaultPageSize = 100;
export const maxPageSize = 1000;
// A 60-bit code collides so rarely that a few tries are only ever one.
const codeAttempts = 5;

export interface InvitesServiceOptions {
  store: InviteStore;
  /** The current time; injectable so tests can move it. */
  now?: () => Date;
}

/**
 * The handlers of invites.v1.InvitesService. Requests arrive validated (by
 * the proto's rules) and with their namespace resolved (by the access
 * interceptor).
 */
export function createInvitesService({ store, now = () => new Date() }: InvitesServiceOptions): ServiceImpl<typeof InvitesService> {
  return {
    async create(req, ctx) {
      const draft = {
        id: randomUUID(),
        namespace: namespaceOf(ctx),
        groupId: req.groupId,
        email: normalizeEmail(req.email),
        createTime: now(),
      };
      for (let attempt = 1; ; attempt++) {
        try {
          const { invite } = await store.createInvite({ ...draft, code: generateInviteCode() });
          return { invite: toProto(invite) };
        } catch (err) {
          if (!(err instanceof DuplicateCodeError) || attempt === codeAttempts) throw err;
        }
      }
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
      return { invite: toProto(invite) };
    },

    async list(req, ctx) {
      const query = {
        namespace: namespaceOf(ctx),
        groupId: req.groupId === "" ? undefined : req.groupId,
        email: req.email === "" ? undefined : normalizeEmail(req.email),
      };
      let after;
      if (req.pageToken !== "") {
        after = decodePageToken(req.pageToken, query);
        if (!after) {
          throw rpcError(Code.InvalidArgument, Reason.invalidPageToken, "page_token: not a token from a previous page of this query", {
            field: "page_token",
          });
        }
      }
      const limit = Math.min(req.pageSize || defaultPageSize, maxPageSize);
      const page = await store.listInvites({ ...query, limit, after });
      return {
        invites: page.invites.map(toProto),
        nextPageToken: page.next ? encodePageToken(page.next, query) : "",
      };
    },

    async delete(req, ctx) {
      await store.deleteInvite(namespaceOf(ctx), req.id);
      return {};
    },
  };
}

function namespaceOf(ctx: HandlerContext): string {
  return ctx.values.get(namespaceKey);
}

function toProto(record: InviteRecord): Invite {
  return create(InviteSchema, {
    id: record.id,
    groupId: record.groupId,
    email: record.email,
    code: record.code,
    createTime: timestampFromDate(record.createTime),
  });
}
