import { createAsyncIterable, type UniversalServerResponse } from "@connectrpc/connect/protocol";

// connect's words for a request message it cannot decode from the binary format.
const parseBinary = "parse binary: ";

/**
 * connect-node reports a binary request message it cannot decode as
 * Internal ("parse binary: …"), as if the server had failed, though it is
 * the caller's mistake. This answers InvalidArgument instead, in the lean
 * path's words (`cannot decode message <type>: …`), on each protocol
 * connect-node serves: gRPC's status fields, gRPC-Web's trailer frame, and
 * Connect's error JSON.
 */
export async function withTypedParseError(response: UniversalServerResponse, inputType: string): Promise<UniversalServerResponse> {
  const retype = (message: string) => `cannot decode message ${inputType}: ${message.slice(parseBinary.length)}`;
  for (const fields of [response.header, response.trailer]) if (fields) retypeGrpcStatus(fields, retype);
  const contentType = response.header?.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web") && response.body) {
    return { ...response, body: retypeTrailerFrames(response.body as AsyncIterable<Uint8Array>, retype) };
  }
  if (response.status !== 500 || !contentType.startsWith("application/json") || !response.body) return response;
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  const error = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { code?: string; message?: string };
  if (error.code !== "internal" || !error.message?.startsWith(parseBinary)) return { ...response, body: createAsyncIterable(chunks) };
  const body = Buffer.from(JSON.stringify({ code: "invalid_argument", message: retype(error.message) }));
  const header = new Headers(response.header);
  header.set("content-length", String(body.length));
  return { ...response, status: 400, header, body: createAsyncIterable([body]) };
}

/** Whether `fields` held connect's parse error, now retyped. */
function retypeGrpcStatus(fields: Headers, retype: (message: string) => string): boolean {
  if (fields.get("grpc-status") !== "13") return false;
  const message = decodeURIComponent(fields.get("grpc-message") ?? "");
  if (!message.startsWith(parseBinary)) return false;
  fields.set("grpc-status", "3");
  // As connect encodes it; withSpecGrpcMessage re-encodes gRPC's fields to the spec's.
  fields.set("grpc-message", encodeURIComponent(retype(message)));
  return true;
}

/** gRPC-Web carries its trailers as a frame of the body, flagged 0x80: each chunk here is one whole frame. */
async function* retypeTrailerFrames(body: AsyncIterable<Uint8Array>, retype: (message: string) => string): AsyncIterable<Uint8Array> {
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
    if (!retypeGrpcStatus(fields, retype)) {
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
