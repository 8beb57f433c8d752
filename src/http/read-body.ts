import type { Readable } from "node:stream";

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * Reads a whole request body. One larger than maxBytes (by its declared
 * length, or once it grows past it) is refused at once and the rest discarded.
 */
export function readBody(source: Readable, maxBytes: number, declaredLength?: string | number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => reject(new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`));
    if (Number(declaredLength ?? 0) > maxBytes) {
      source.resume();
      return tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size > maxBytes) return;
      size += chunk.length;
      if (size > maxBytes) tooLarge();
      else chunks.push(chunk);
    };
    // Listeners are removed when done: an HTTP/2 stream outlives its call in
    // Node, and whatever its listeners hold stays with it.
    const onEnd = () => {
      source.off("data", onData).off("error", onError);
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      source.off("data", onData).off("end", onEnd);
      reject(err);
    };
    source.on("data", onData).once("end", onEnd).once("error", onError);
  });
}
