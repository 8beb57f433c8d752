import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";

/** A Connect GET call's query: how its message is encoded, and the parameters that carry it. */
export interface ConnectGetQuery {
  wire: "json" | "proto";
  params: URLSearchParams;
}

// Printable ASCII but '#': connect-node reads the query through WHATWG URL, which ends it at '#' and drops tabs and line breaks.
const plainQuery = /^[\x21\x22\x24-\x7e]*$/;

/**
 * Reads a Connect GET call's query as connect-node does: URLSearchParams,
 * the first value of each parameter, unknown parameters ignored, and
 * `connect=v1` not required (the router is not told to require it).
 * Undefined for what connect-node alone answers: a compressed message, an
 * encoding other than json or proto (415), or a query that URL parsing
 * might read otherwise.
 */
export function readConnectGetQuery(query: string): ConnectGetQuery | undefined {
  if (!plainQuery.test(query)) return undefined;
  const params = new URLSearchParams(query);
  if (params.has("compression")) return undefined;
  const encoding = params.get("encoding");
  return encoding === "json" || encoding === "proto" ? { wire: encoding, params } : undefined;
}

/** The message's bytes; InvalidArgument, naming the parameter, if `base64=1` and it is not base64. */
export function connectGetMessage(params: URLSearchParams): Buffer {
  const message = params.get("message") ?? "";
  if (params.get("base64") !== "1") return Buffer.from(message, "utf8");
  try {
    const bytes = base64Decode(message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  } catch {
    throw new ConnectError("message: query parameter is not valid base64 (base64=1)", Code.InvalidArgument);
  }
}
