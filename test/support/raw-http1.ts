import * as net from "node:net";
import * as tls from "node:tls";

export interface RawResponse {
  status: number;
  /** Field names in lower case; a repeated field's values joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** The body as sent, for a binary one. */
  bytes: Buffer;
}

/**
 * One HTTP/1.1 connection that writes exactly the bytes a test gives and
 * reads answers framed by Content-Length or chunked, so a test can pipeline, split requests and watch the
 * connection close, which fetch hides.
 */
export async function openRawHttp1(url: string, { paused = false, ca, halfOpen = false }: { paused?: boolean; ca?: Buffer; halfOpen?: boolean } = {}) {
  const { protocol, hostname, port } = new URL(url);
  const secure = protocol === "https:";
  const socket = secure
    ? tls.connect({ port: Number(port), host: hostname, servername: "localhost", ca, ALPNProtocols: ["http/1.1"] })
    : net.connect({ port: Number(port), host: hostname, allowHalfOpen: halfOpen });
  await new Promise<void>((resolve, reject) => socket.once(secure ? "secureConnect" : "connect", resolve).once("error", reject));
  let received = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  let closedAt: number | undefined;
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => {
      closedAt = Date.now();
      wake?.();
      resolve(closedAt);
    }),
  );
  socket.on("error", () => undefined);
  if (paused) socket.pause();
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    wake?.();
  });

  /** The next answer, or undefined if the connection closes first. */
  async function next(): Promise<RawResponse | undefined> {
    for (;;) {
      const response = take();
      if (response || closedAt !== undefined) return response;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  function take(): RawResponse | undefined {
    const headEnd = received.indexOf("\r\n\r\n");
    if (headEnd < 0) return undefined;
    const [statusLine, ...lines] = received.toString("latin1", 0, headEnd).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const framed = headers["transfer-encoding"] === "chunked" ? unchunk(received, headEnd + 4) : whole(received, headEnd + 4, Number(headers["content-length"] ?? 0));
    if (!framed) return undefined;
    received = received.subarray(framed.end);
    return { status: Number(statusLine.split(" ")[1]), headers, body: framed.bytes.toString("utf8"), bytes: framed.bytes };
  }

  return {
    write: (bytes: string | Buffer) => new Promise<void>((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve()))),
    next,
    /** Resolves with the time the connection closed. */
    closed,
    close: () => socket.destroy(),
    /** Starts reading, for a connection opened paused. */
    resume: () => socket.resume(),
  };
}

/** A POST as Connect clients send it, with its Content-Length. */
export function connectPost(path: string, json: unknown, fields: Record<string, string> = {}): string {
  const body = JSON.stringify(json);
  const head = Object.entries({ host: "localhost", "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...fields })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return `POST ${path} HTTP/1.1\r\n${head}\r\n${body}`;
}

function whole(bytes: Buffer, start: number, length: number) {
  return bytes.length < start + length ? undefined : { bytes: Buffer.from(bytes.subarray(start, start + length)), end: start + length };
}

function unchunk(bytes: Buffer, start: number) {
  const parts: Buffer[] = [];
  for (let at = start; ; ) {
    const lineEnd = bytes.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.toString("latin1", at, lineEnd), 16);
    const dataEnd = lineEnd + 2 + size;
    if (bytes.length < dataEnd + 2) return undefined;
    if (size === 0) return { bytes: Buffer.concat(parts), end: dataEnd + 2 };
    parts.push(bytes.subarray(lineEnd + 2, dataEnd));
    at = dataEnd + 2;
  }
}
