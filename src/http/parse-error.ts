import { createAsyncIterable, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { compressedUnannounced } from "./grpc-framing.js";

// connect's words for a request message it cannot decode from the binary format.
const parseBinary = "parse binary: ";

/**
 * connect-node answers two mistakes of the caller with Internal, as if the
 * server had failed: a binary message it cannot decode ("parse binary: …")
 * and a frame flagged compressed in a call that named no compression. This
 * answers InvalidArgument instead, as the lean path does and in its words
 * (`cannot decode message <type>: …`), on each protocol connect-node serves:
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
  const body = Buffer.from(JSON.stringify({ code: "invalid_argument", message }));
  const header = new Headers(response.header);
  header.set("content-length", String(body.length));
  return { ...response, status: 400, header, body: createAsyncIterable([body]) };
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
    if (frame.length < 5 || (frame[0] & 0x80) === 0) {
      yield frame;
      continue;
    }
    const fields = new Headers();
    for (const line of Buffer.from(frame.subarray(5)).toString("latin1").split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) fields.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const retyped = retypeGrpcStatus(fields, retype);
    const status = fields.get("grpc-status");
    if (status) onGrpcStatus(Number(status));
    if (!retyped) {
      yield frame;
      continue;
    }
    let text = "";
    fields.forEach((value, name) => (text += `${name}: ${value}\r\n`));
    const payload = Buffer.from(text, "latin1");
    const rewritten = Buffer.alloc(5 + payload.length);
    rewritten[0] = frame[0];
    rewritten.writeUInt32BE(payload.length, 1);
    payload.copy(rewritten, 5);
    yield rewritten;
  }
}
