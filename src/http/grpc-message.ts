import type { UniversalServerResponse } from "@connectrpc/connect/protocol";

/**
 * connect-es percent-encodes grpc-message with encodeURIComponent, but the
 * gRPC spec leaves printable ASCII other than '%' as it is, and @grpc/grpc-js
 * decodes with decodeURI, which would show "group_id%3A …". Re-encode per spec.
 */
export function withSpecGrpcMessage(response: UniversalServerResponse): UniversalServerResponse {
  for (const headers of [response.header, response.trailer]) {
    const encoded = headers?.get("grpc-message");
    if (encoded) headers?.set("grpc-message", encodeGrpcMessage(decodeURIComponent(encoded)));
  }
  return response;
}

export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
