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
    source.on("data", (chunk: Buffer) => {
      if (size > maxBytes) return;
      size += chunk.length;
      if (size > maxBytes) tooLarge();
      else chunks.push(chunk);
    });
    source.once("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    source.once("error", reject);
  });
}
