import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";
import type { NodeRequest, NodeResponse } from "../http/node-types.js";
import type { Logger } from "../logger.js";
import type { CallRecord } from "./call-record.js";
import type { Metrics } from "./metrics.js";

export type Protocol = "grpc" | "grpc-web" | "connect" | "m3o" | "http";

export interface Observation {
  /** The caller's x-request-id if sane, else a new UUID; echo it in the response. */
  readonly requestId: string;
  /** Writes the request's log line and metrics. */
  end(httpStatus: number, finished: boolean, record: CallRecord): void;
}

export interface RequestObserver {
  begin(requestIdHeader: string | undefined, protocol: Protocol, path: string): Observation;
  /**
   * For Node's request/response pairs: begins, and ends when the response
   * closes. Returns the request id, which the caller sends as x-request-id.
   */
  observe(req: NodeRequest, res: NodeResponse, protocol: Protocol, record: CallRecord): string;
}

const requestIdPattern = /^[\w.:-]{1,128}$/;
const apiPrefix = `${InvitesService.typeName}/`;

/**
 * One log line and the request metrics per request. Only the path is
 * logged: never bodies, query strings or headers, which may carry codes and keys.
 */
export function createRequestObserver(logger: Logger, metrics: Metrics): RequestObserver {
  const begin = (requestIdHeader: string | undefined, protocol: Protocol, path: string): Observation => {
    const started = process.hrtime.bigint();
    const requestId = requestIdHeader && requestIdPattern.test(requestIdHeader) ? requestIdHeader : randomUUID();
    return {
      requestId,
      end(httpStatus, finished, record) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const procedure = record.procedure ?? path.split("?", 1)[0];
        const code = record.code ?? codeFromResponse(protocol, httpStatus, finished);
        const fields = {
          request_id: requestId,
          procedure,
          protocol,
          code,
          reason: record.reason,
          http_status: httpStatus,
          duration_ms: Math.round(seconds * 1e6) / 1e3,
          namespace: record.namespace,
        };
        // Probes and scrapes are many and dull: only the API's own calls log at info.
        if (protocol === "m3o" || procedure.startsWith(apiPrefix) || procedure.startsWith(`/${apiPrefix}`)) logger.info("request", fields);
        else logger.debug("request", fields);
        if (protocol === "http") return;
        // Labels must stay few: an M3O path the service never reached may name any method.
        const label = record.procedure ?? (protocol === "m3o" ? "m3o" : procedure.replace(/^\//, ""));
        metrics.requests.inc([label, protocol, code]);
        metrics.requestDuration.observe([label, protocol], seconds);
      },
    };
  };
  return {
    begin,
    observe(req, res, protocol, record) {
      const sent = req.headers["x-request-id"];
      const observation = begin(typeof sent === "string" ? sent : undefined, protocol, req.url ?? "");
      // An HTTP/2 response can finish writing and still be reset by the client (connect-node answers a cancel).
      const reset = () => "stream" in res && res.stream.rstCode !== 0;
      res.once("close", () => observation.end(res.statusCode, res.writableFinished && !reset(), record));
      return observation.requestId;
    },
  };
}

const codesByHttpStatus: Record<number, Code> = {
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

/**
 * The code of a request the interceptors never saw, from the HTTP status this
 * server answered it with; gRPC puts its code in trailers, which are not kept.
 */
function codeFromResponse(protocol: Protocol, status: number, finished: boolean): string {
  if (!finished) return codeToString(Code.Canceled);
  if (protocol === "grpc" || protocol === "grpc-web") return status === 200 ? codeToString(Code.Unknown) : codeToString(Code.Unimplemented);
  if (status < 300) return "ok";
  return codeToString(codesByHttpStatus[status] ?? Code.Unknown);
}
