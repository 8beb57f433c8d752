import { Code, type ConnectError } from "@connectrpc/connect";
import { InviteState } from "../../gen/invites/v1/invites_pb.js";
import { notFound, rpcError } from "../errors.js";
import type { InviteRecord, ListState } from "../store/store.js";

export const LifecycleReason = {
  expired: "INVITE_EXPIRED",
  revoked: "INVITE_REVOKED",
  usedUp: "INVITE_USED_UP",
  emailMismatch: "INVITE_EMAIL_MISMATCH",
  alreadyAccepted: "INVITE_ALREADY_ACCEPTED",
  alreadyPending: "INVITE_ALREADY_PENDING",
} as const;

/** The state a reader sees: a pending invite past its expire time is expired. */
export function effectiveState(invite: InviteRecord, now: Date): InviteState {
  if (invite.state === "pending" && invite.expireTime !== undefined && invite.expireTime <= now) return InviteState.EXPIRED;
  return protoStates[invite.state];
}

const protoStates = {
  pending: InviteState.PENDING,
  accepted: InviteState.ACCEPTED,
  revoked: InviteState.REVOKED,
  expired: InviteState.EXPIRED,
} as const;

const listStates = new Map((Object.entries(protoStates) as [ListState, InviteState][]).map(([name, state]) => [state, name]));

/** The store's name for a state a List request filters on (validation has excluded UNSPECIFIED). */
export function listStateOf(state: InviteState): ListState {
  const found = listStates.get(state);
  if (!found) throw new Error(`no list state for ${state}`);
  return found;
}

const isUsedUp = (invite: InviteRecord) => invite.maxUses > 0 && invite.useCount >= invite.maxUses;

/**
 * Why an invite cannot be accepted by this email now. A used-up link says
 * so, never that it expired.
 */
export function acceptRefusal(invite: InviteRecord, email: string, now: Date): ConnectError {
  if (invite.email !== "" && invite.email !== email) {
    return rpcError(Code.PermissionDenied, LifecycleReason.emailMismatch, "email: does not match the email this invite was sent to", {
      field: "email",
    });
  }
  if (invite.state === "revoked") return rpcError(Code.FailedPrecondition, LifecycleReason.revoked, "the invite was revoked");
  if (invite.state === "accepted" || isUsedUp(invite)) {
    return rpcError(Code.FailedPrecondition, LifecycleReason.usedUp, "the invite has been used up");
  }
  if (effectiveState(invite, now) === InviteState.EXPIRED) {
    return rpcError(Code.FailedPrecondition, LifecycleReason.expired, "the invite has expired");
  }
  // The store refused a change these rules allow: it changed in between; the client may retry.
  return rpcError(Code.Aborted, "CONCURRENT_CHANGE", "the invite changed during the call; retry");
}

/** Why a revoked, used-up or missing invite cannot be renewed or revoked. */
export function changeRefusal(invite: InviteRecord | undefined): ConnectError {
  if (!invite) return notFound();
  if (invite.state === "revoked") return rpcError(Code.FailedPrecondition, LifecycleReason.revoked, "the invite was revoked");
  return rpcError(Code.FailedPrecondition, LifecycleReason.alreadyAccepted, "the invite has been used up");
}
