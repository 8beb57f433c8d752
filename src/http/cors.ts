import { cors } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./node-types.js";

const allowedHeaders = [...cors.allowedHeaders, "Authorization", "Micro-Namespace", "X-Request-Id"].join(", ");
const exposedHeaders = [...cors.exposedHeaders, "X-Request-Id"].join(", ");
const allowedMethods = [...cors.allowedMethods, "OPTIONS"].join(", ");

/** CORS for the configured origins ("*" admits any), for Node's server and the lean HTTP/1.1 reader alike. */
export interface CorsPolicy {
  /** The fields that let `origin` read an answer, or undefined if it may not. */
  answerFields(origin: string | undefined): Record<string, string> | undefined;
  /** The answer to a preflight (an OPTIONS request with Access-Control-Request-Method) from `origin`. */
  preflight(origin: string | undefined): { status: 204 | 403; fields: Record<string, string> };
}

export function createCorsPolicy(origins: readonly string[]): CorsPolicy {
  const anyOrigin = origins.includes("*");
  const allowed = new Set(origins);
  const answerFields = (origin: string | undefined) =>
    origin !== undefined && (anyOrigin || allowed.has(origin))
      ? { "Access-Control-Allow-Origin": origin, Vary: "Origin", "Access-Control-Expose-Headers": exposedHeaders }
      : undefined;
  return {
    answerFields,
    preflight(origin) {
      const fields = answerFields(origin);
      if (!fields) return { status: 403, fields: {} };
      const preflightFields = { "Access-Control-Allow-Methods": allowedMethods, "Access-Control-Allow-Headers": allowedHeaders, "Access-Control-Max-Age": "7200" };
      return { status: 204, fields: { ...fields, ...preflightFields } };
    },
  };
}

/** Applies `policy` to a request of Node's server. Returns true when it has answered the request itself (a preflight). */
export function createCorsHandler(policy: CorsPolicy) {
  return (req: NodeRequest, res: NodeResponse): boolean => {
    const origin = req.headers.origin;
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      const { status, fields } = policy.preflight(origin);
      res.writeHead(status, fields);
      res.end();
      return true;
    }
    const fields = policy.answerFields(origin);
    for (const name in fields) res.setHeader(name, fields[name]);
    return false;
  };
}
