import { createHash } from "node:crypto";
import type { ListCursor } from "../store/store.js";

/** What a page token is bound to (the query's filters): a token is only valid for the same query. */
export type PageQuery = object;

interface TokenBody {
  t: number;
  s: number;
  q: string;
}

/** Encodes the position after the last invite of a page as an opaque string. */
export function encodePageToken(cursor: ListCursor, query: PageQuery): string {
  const body: TokenBody = { t: cursor.time.getTime(), s: cursor.seq, q: queryDigest(query) };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** Returns the cursor in a token, or undefined if the token is malformed or from another query. */
export function decodePageToken(token: string, query: PageQuery): ListCursor | undefined {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isTokenBody(body) || body.q !== queryDigest(query)) return undefined;
  return { time: new Date(body.t), seq: body.s };
}

function isTokenBody(value: unknown): value is TokenBody {
  if (typeof value !== "object" || value === null) return false;
  const { t, s, q } = value as Record<string, unknown>;
  return Number.isSafeInteger(t) && Number.isSafeInteger(s) && typeof q === "string";
}

// Keys in a fixed order and undefined kept distinct from "", so equal queries digest equally.
function queryDigest(query: PageQuery): string {
  const entries = Object.entries(query).sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => [key, value ?? null]);
  return createHash("sha256").update(JSON.stringify(entries)).digest("base64url").slice(0, 16);
}
