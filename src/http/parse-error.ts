import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { connectGetMessage } from "./connect-get.js";
import { compressedUnannounced, grpcFrame } from "./grpc-framing.js";

// connect's words for a request message it cannot decode from the binary format.
const parseBinary = "parse binary: ";

// connect-node answers some of the caller's mistakes with Internal, as if the
// server had failed. The two functions here answer InvalidArgument instead,
// as the lean path does and in its words, so that both paths agree.

/**
 * A GET whose `base64=1` message is not base64. Nothing else connect-node
 * does with such a GET can fail with Internal before it reads the message,
 * so its 500 there can only be that.
 */
export function withTypedBase64Error(method: string | undefined, target: string, response: UniversalServerResponse): UniversalServerResponse {
  if (method !== "GET" || response.status !== 500) return response;
  const mark = target.indexOf("?");
  try {
    if (mark >= 0) connectGetMessage(new URL(target, "http://localhost").searchParams);
    return response;
  } catch (err) {
    return connectErrorResponse(err as ConnectError);
  }
}

/**
 * A binary message connect-node cannot decode ("parse binary: …", answered
 * `cannot decode message <type>: …`) and a frame flagged compressed in a
 * call that named no compression, on each protocol connect-node serves:
 * gRPC's status fields, gRPC-Web's trailer frame, and Connect's error JSON.
 * `onGrpcStatus` is given the gRPC or gRPC-Web status the answer carries, once
 * it is known, for the request's log line.
 */
export async function withTypedParseError(
  response: UniversalServerResponse,
  inputType: string,
  onGrpcStatus: (status: number) => void,
): Promise<UniversalServerResponse> {
  const retype = (message: string) => {
    if (message.startsWith(parseBinary)) return `cannot decode message ${inputType}: ${message.slice(parseBinary.length)}`;
    return message === compressedUnannounced ? message : undefined;
  };
  for (const fields of [response.header, response.trailer]) {
    if (!fields) continue;
    retypeGrpcStatus(fields, retype);
    const status = fields.get("grpc-status");
    if (status) onGrpcStatus(Number(status));
  }
  const contentType = response.header?.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web") && response.body) {
    return { ...response, body: retypeTrailerFrames(response.body as AsyncIterable<Uint8Array>, retype, onGrpcStatus) };
  }
  if (response.status !== 500 || !contentType.startsWith("application/json") || !response.body) return response;
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  const error = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { code?: string; message?: string };
  const message = error.code === "internal" && error.message !== undefined ? retype(error.message) : undefined;
  if (message === undefined) return { ...response, body: createAsyncIterable(chunks) };
  return connectErrorResponse(new ConnectError(message, Code.InvalidArgument));
}

/** A Connect unary error answer, as connect-node writes one. */
function connectErrorResponse(error: ConnectError): UniversalServerResponse {
  const body = errorToJsonBytes(error, {});
  const header = new Headers({ "content-type": "application/json", "content-length": String(body.length) });
  return { status: codeToHttpStatus(error.code), header, body: createAsyncIterable([body]) };
}

/** Whether `fields` held one of connect's Internal answers to a caller's mistake, now retyped. */
function retypeGrpcStatus(fields: Headers, retype: (message: string) => string | undefined): boolean {
  if (fields.get("grpc-status") !== "13") return false;
  const message = retype(decodeURIComponent(fields.get("grpc-message") ?? ""));
  if (message === undefined) return false;
  fields.set("grpc-status", "3");
  // As connect encodes it; withSpecGrpcMessage re-encodes gRPC's fields to the spec's.
  fields.set("grpc-message", encodeURIComponent(message));
  return true;
}

/** gRPC-Web carries its trailers as a frame of the body, flagged 0x80: each chunk here is one whole frame. */
async function* retypeTrailerFrames(
  body: AsyncIterable<Uint8Array>,
  retype: (message: string) => string | undefined,
  onGrpcStatus: (status: number) => void,
): AsyncIterable<Uint8Array> {
  for await (const frame of body) {
    if (frame.length < 5 || (frame[0] & trailerFlag) === 0) {
      yield frame;
      continue;
    }
    const fields = trailerParse(frame.subarray(5));
    const retyped = retypeGrpcStatus(fields, retype);
    const status = fields.get("grpc-status");
    if (status) onGrpcStatus(Number(status));
    yield retyped ? grpcFrame(frame[0], trailerSerialize(fields)) : frame;
  }
}
