import type { IncomingHttpHeaders } from "node:http2";
import { parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout } from "@connectrpc/connect/protocol-grpc";

/** How a lean call's messages travel: gRPC's or gRPC-Web's framing, or Connect's proto or JSON. */
export type Wire = "grpc" | "grpc-web" | "proto" | "json";

/** The protocol a wire belongs to, as logs and metrics name it. */
export const protocolOf = (wire: Wire) => (wire === "grpc" || wire === "grpc-web" ? wire : "connect");

/** The longest deadline a client may ask for; connect-node is given the same. */
export const maxTimeoutMs = 24 * 60 * 60 * 1000;

/**
 * The wire a request's content type names, or undefined for what only
 * connect-node serves (compression, other types). gRPC and gRPC-Web name
 * their compression in grpc-encoding, Connect in content-encoding.
 */
export function wireOf(headers: IncomingHttpHeaders): Wire | undefined {
  const wire = wireOfType(headers["content-type"]);
  const encoding = wire && headers[protocolOf(wire) === "connect" ? "content-encoding" : "grpc-encoding"];
  return encoding && encoding !== "identity" ? undefined : wire;
}

function wireOfType(contentType: string | undefined): Wire | undefined {
  if (contentType === "application/grpc" || contentType === "application/grpc+proto") return "grpc";
  if (contentType === "application/grpc-web" || contentType === "application/grpc-web+proto") return "grpc-web";
  if (contentType === "application/proto") return "proto";
  if (contentType === "application/json" || contentType === "application/json; charset=utf-8") return "json";
  return undefined;
}

/** The deadline a request asks for, in milliseconds; throws connect's own error for a malformed one. */
export function timeoutOf(wire: Wire, headers: IncomingHttpHeaders): number | undefined {
  const grpc = protocolOf(wire) !== "connect";
  const raw = headers[grpc ? "grpc-timeout" : "connect-timeout-ms"];
  if (typeof raw !== "string") return undefined;
  const parsed = grpc ? parseGrpcTimeout(raw, maxTimeoutMs) : parseConnectTimeout(raw, maxTimeoutMs);
  if (parsed.error) throw parsed.error;
  return parsed.timeoutMs;
}
