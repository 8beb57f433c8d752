import type { ConnectError } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";

/** The content type of the gRPC-Web answers the lean path writes: the binary kind, as connect-node answers. */
export const grpcWebContentType = "application/grpc-web+proto";

/** One gRPC length-prefixed message: a flags byte, the length, the bytes. */
export function grpcFrame(flags: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame[0] = flags;
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, 5);
  return frame;
}

// gRPC-Web carries the trailers in the body, in a last frame with this flag.
const trailerFlag = 0x80;

/** A gRPC-Web answer's body: the message, then the trailers with grpc-status 0, as connect-node writes them. */
export function grpcWebAnswer(message: Uint8Array, trailer: Headers | undefined): Buffer {
  const fields = new Headers(trailer);
  fields.set("grpc-status", "0");
  return Buffer.concat([grpcFrame(0, message), trailerFrame(fields)]);
}

/** A gRPC-Web error's body: the trailers alone, with connect's status fields (grpc-message as connect encodes it). */
export function grpcWebError(error: ConnectError): Buffer {
  return trailerFrame(setTrailerStatus(new Headers(), error));
}

function trailerFrame(fields: Headers): Buffer {
  let text = "";
  fields.forEach((value, name) => (text += `${name}: ${value}\r\n`));
  return grpcFrame(trailerFlag, Buffer.from(text, "utf8"));
}
