import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";
import type { Logger } from "../logger.js";
import { codeName, type CallRecord } from "./call-record.js";
import type { Metrics } from "./metrics.js";

export type Protocol = "grpc" | "grpc-web" | "connect" | "m3o" | "http";

const requestIdPattern = /^[\w.:-]{1,128}$/;

/**
 * Gives each request an id (the caller's x-request-id if sane), echoes it,
 * and when the response ends writes one log line and the request metrics.
 * Only the path is logged: never bodies, query strings or headers, which may
 * carry codes and keys.
 */
export function createRequestObserver(logger: Logger, metrics: Metrics) {
  return (req: NodeRequest, res: NodeResponse, protocol: Protocol, record: CallRecord) => {
    const started = process.hrtime.bigint();
    const sent = req.headers["x-request-id"];
    const requestId = typeof sent === "string" && requestIdPattern.test(sent) ? sent : randomUUID();
    res.setHeader("x-request-id", requestId);
    res.once("close", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const procedure = record.procedure ?? (req.url ?? "").split("?", 1)[0];
      const code = record.code ?? codeFromResponse(protocol, res.statusCode, res.writableFinished);
      const fields = {
        request_id: requestId,
        procedure,
        protocol,
        code,
        reason: record.reason,
        http_status: res.statusCode,
        duration_ms: Math.round(seconds * 1e6) / 1e3,
        namespace: record.namespace,
      };
      // Probes and scrapes are many and dull: only the API's own calls log at info.
      if (record.namespace !== undefined || protocol === "m3o") logger.info("request", fields);
      else logger.debug("request", fields);
      if (protocol === "http") return;
      metrics.requests.inc({ procedure, protocol, code });
      metrics.requestDuration.observe({ procedure, protocol }, seconds);
    });
  };
}

/**
 * The code of a request the interceptors never saw: from its HTTP status
 * (Connect's mapping); gRPC puts its code in trailers, which are not kept.
 */
function codeFromResponse(protocol: Protocol, status: number, finished: boolean): string {
  if (!finished) return codeName(Code.Canceled);
  if (protocol === "grpc" || protocol === "grpc-web") return status === 200 ? codeName(Code.Unknown) : codeName(Code.Unimplemented);
  const codes: Record<number, Code> = {
    400: Code.InvalidArgument,
    401: Code.Unauthenticated,
    403: Code.PermissionDenied,
    404: Code.Unimplemented,
    405: Code.Unimplemented,
    408: Code.DeadlineExceeded,
    413: Code.ResourceExhausted,
    415: Code.Unimplemented,
    429: Code.ResourceExhausted,
    503: Code.Unavailable,
    504: Code.DeadlineExceeded,
  };
  if (status < 300) return "ok";
  return codeName(codes[status] ?? Code.Unknown);
}
