import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, BadRequest_FieldViolationSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";

/** The `domain` of every google.rpc.ErrorInfo this service sends. */
const errorDomain = "invites";

/** Stable machine-readable reasons; the M3O ids where one fits. */
export const Reason = {
  notFound: "NOT_FOUND",
  invalidPageToken: "INVALID_PAGE_TOKEN",
  invalidNamespace: "INVALID_NAMESPACE",
  unauthenticated: "UNAUTHENTICATED",
  permissionDenied: "PERMISSION_DENIED",
  databaseUnavailable: "DATABASE_UNAVAILABLE",
  databaseError: "DATABASE_ERROR",
} as const;

type OutgoingDetails = NonNullable<ConstructorParameters<typeof ConnectError>[3]>;

export interface ErrorOptions {
  /** The request field at fault, named as in the proto. */
  field?: string;
  fieldViolations?: MessageInitShape<typeof BadRequest_FieldViolationSchema>[];
}

/** A ConnectError carrying a google.rpc.ErrorInfo with a stable reason. */
export function rpcError(code: Code, reason: string, message: string, options: ErrorOptions = {}): ConnectError {
  const details: OutgoingDetails = [
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, {
        reason,
        domain: errorDomain,
        metadata: options.field ? { field: options.field } : {},
      }),
    },
  ];
  if (options.fieldViolations?.length) {
    details.push({ desc: BadRequestSchema, value: create(BadRequestSchema, { fieldViolations: options.fieldViolations }) });
  }
  return new ConnectError(message, code, undefined, details);
}

export function notFound(): ConnectError {
  return rpcError(Code.NotFound, Reason.notFound, "invite not found");
}

/** The ErrorInfo reason of an error, if it carries one. */
export function errorReason(error: ConnectError): string | undefined {
  return error.findDetails(ErrorInfoSchema)[0]?.reason;
}
