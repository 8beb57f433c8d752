import type { JsonWriteOptions } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { contentTypeProto as grpcWebContentType } from "@connectrpc/connect/protocol-grpc-web";
import { encodeGrpcMessage } from "./grpc-message.js";
import { grpcWebAnswer, grpcWebError } from "./grpc-framing.js";
import type { Wire } from "./lean-wire.js";

/** What the handler answered, encoded (JSON as text, which Node encodes as it writes), with any headers and trailers it set. */
export interface Answer {
  body: Uint8Array | string;
  header?: Headers;
  trailer?: Headers;
}

/** An answer's status, its fields but the transport's own, and its body. */
export interface AnswerParts {
  status: number;
  head: Record<string, string>;
  body: Uint8Array | string;
}

/**
 * A Connect or gRPC-Web answer as connect-node writes it: Connect's in its
 * encoding's plain content type (application/json for a request sent as
 * application/json; charset=utf-8), with its Content-Length and its trailers
 * as "trailer-" fields; gRPC-Web's with its trailers in the body.
 */
export function answerParts(wire: Wire, answer: Answer): AnswerParts {
  if (wire === "grpc-web") return { status: 200, head: { ...plain(answer.header), "content-type": grpcWebContentType }, body: grpcWebAnswer(answer.body as Uint8Array, answer.trailer) };
  const head = plain(answer.header);
  answer.trailer?.forEach((value, name) => (head[`trailer-${name}`] = value));
  head["content-type"] = `application/${wire}`;
  head["content-length"] = String(byteLength(answer.body));
  return { status: 200, head, body: answer.body };
}

/** A Connect or gRPC-Web error as connect-node writes it: gRPC-Web's status travels in the body's trailers, at HTTP 200. */
export function errorParts(wire: Wire, error: ConnectError, jsonOptions: Partial<JsonWriteOptions>): AnswerParts {
  if (wire === "grpc-web") return { status: 200, head: { "content-type": grpcWebContentType }, body: grpcWebError(error) };
  const body = errorToJsonBytes(error, jsonOptions);
  return { status: codeToHttpStatus(error.code), head: { "content-type": "application/json", "content-length": String(body.length) }, body };
}

/** A gRPC error's fields for a trailers-only answer, grpc-message in the spec's encoding. */
export function grpcStatusFields(error: ConnectError): Record<string, string> {
  const fields: Record<string, string> = {};
  setTrailerStatus(new Headers(), error).forEach((value, name) => (fields[name] = name === "grpc-message" ? encodeGrpcMessage(error.rawMessage) : value));
  return fields;
}

export function plain(headers: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  headers?.forEach((value, name) => (out[name] = value));
  return out;
}

export function byteLength(body: Uint8Array | string): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.length;
}
