import * as http2 from "node:http2";

/** POSTs JSON (or a raw string) and returns the status, headers and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as any };
}

/** The HTTP/2 settings a server sends a new connection. */
export async function serverSettings(url: string, options: http2.SecureClientSessionOptions = {}): Promise<http2.Settings> {
  const session = http2.connect(url, options);
  try {
    return await new Promise<http2.Settings>((resolve, reject) => {
      session.once("remoteSettings", resolve);
      session.once("error", reject);
    });
  } finally {
    session.close();
  }
}
