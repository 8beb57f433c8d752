import { cors } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./node-types.js";

const allowedHeaders = [...cors.allowedHeaders, "Authorization", "Micro-Namespace", "X-Request-Id"].join(", ");
const exposedHeaders = [...cors.exposedHeaders, "X-Request-Id"].join(", ");
const allowedMethods = [...cors.allowedMethods, "OPTIONS"].join(", ");

/**
 * CORS for the configured origins ("*" admits any). Returns true when it has
 * answered the request itself (a preflight).
 */
export function createCorsHandler(origins: readonly string[]) {
  const anyOrigin = origins.includes("*");
  const allowed = new Set(origins);
  return (req: NodeRequest, res: NodeResponse): boolean => {
    const origin = req.headers.origin;
    const permitted = origin !== undefined && (anyOrigin || allowed.has(origin));
    const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    if (permitted) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Vary", "Origin");
      res.setHeader("Access-Control-Expose-Headers", exposedHeaders);
    }
    if (!preflight) return false;
    if (permitted) {
      res.setHeader("Access-Control-Allow-Methods", allowedMethods);
      res.setHeader("Access-Control-Allow-Headers", allowedHeaders);
      res.setHeader("Access-Control-Max-Age", "7200");
    }
    res.writeHead(permitted ? 204 : 403);
    res.end();
    return true;
  };
}
