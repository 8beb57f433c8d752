import { Code, ConnectError, createContextValues, type ConnectRouter } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { safeErrorMessage, type Logger } from "../logger.js";
import { callRecordKey, type CallRecord } from "../observability/call-record.js";
import type { Metrics } from "../observability/metrics.js";
import type { Protocol, RequestObserver } from "../observability/request-observer.js";
import { createCorsHandler, type CorsPolicy } from "./cors.js";
import { withSpecGrpcMessage } from "./grpc-message.js";
import { abortWhenClientLeaves } from "./lean-call.js";
import { withTypedBase64Error, withTypedParseError } from "./parse-error.js";
import type { Http1Respond, LeanUnary } from "./lean-unary.js";
import { createM3oHandler, m3oMethodOf } from "./m3o.js";
import type { NodeHandler, NodeRequest, NodeResponse } from "./node-types.js";
import { readBody } from "./read-body.js";

export interface HttpHandlerOptions {
  router: ConnectRouter;
  cors: CorsPolicy;
  maxBodyBytes: number;
  logger: Logger;
  metrics: Metrics;
  /** Whether the server can serve now (readiness). */
  isServing: () => Promise<boolean>;
  observer: RequestObserver;
  /** Serves the common unary calls without connect-node, if given. */
  lean?: LeanUnary;
}

/**
 * One request handler for HTTP/1.1 and HTTP/2: CORS, then the gRPC, gRPC-Web
 * and Connect routes, the M3O paths, and the operator endpoints (/healthz,
 * /readyz, /metrics); anything else is 404.
 */
export function createHttpHandler({ router, cors, maxBodyBytes, logger, metrics, isServing, observer, lean }: HttpHandlerOptions): NodeHandler {
  const routes = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  const handleCors = createCorsHandler(cors);
  const handleM3o = createM3oHandler(router.handlers, maxBodyBytes, lean);

  const fail = (res: NodeResponse, requestId: string, err: unknown) => {
    if (ConnectError.from(err).code === Code.Aborted) return;
    logger.error("request failed", { error: safeErrorMessage(err) });
    if (!res.headersSent) res.writeHead(500, { "x-request-id": requestId });
    res.end();
  };

  const operatorEndpoints: Record<string, (res: NodeResponse) => Promise<void>> = {
    "/healthz": async (res) => text(res, 200, "ok\n"),
    "/readyz": async (res) => ((await isServing()) ? text(res, 200, "ready\n") : text(res, 503, "not ready\n")),
    "/metrics": async (res) => text(res, 200, await metrics.registry.metrics(), metrics.registry.contentType),
  };

  return function handleRequest(req, res) {
    if (handleCors(req, res)) return;
    const path = (req.url ?? "").split("?", 1)[0];
    const record: CallRecord = {};
    const handler = routes.get(path);
    const m3o = handler ? undefined : m3oMethodOf(path);
    const requestId = observer.observe(req, res, handler ? rpcProtocol(req) : m3o !== undefined ? "m3o" : "http", record);
    const leanRoute = handler && req.httpVersionMajor === 1 ? lean?.http1Route(req.method, req.url ?? "", req.headers) : undefined;
    if (leanRoute) {
      lean!.http1(leanRoute, req.headers, () => readBody(req, maxBodyBytes, req.headers["content-length"]), record, abortWhenClientLeaves(res), respondThrough(res, requestId));
      return;
    }
    const contextValues = createContextValues().set(callRecordKey, record);
    // The lean path and M3O's write the id with their head; set ahead, a header sends Node's writeHead down its slow path.
    if (m3o !== undefined) {
      handleM3o(req, res, m3o, contextValues, requestId).catch((err) => fail(res, requestId, err));
      return;
    }
    res.setHeader("x-request-id", requestId);
    if (handler) {
      handler(universalRequestFromNodeRequest(req, res, undefined, contextValues))
        // A call refused before any interceptor ran (a message that does not decode, a malformed deadline) has no outcome recorded yet.
        .then((uRes) => withTypedParseError(withTypedBase64Error(req.method, req.url ?? "", uRes), handler.method.input.typeName, (status) => (record.code ??= codeToString(status))))
        .then((uRes) => universalResponseToNodeResponse(withSpecGrpcMessage(uRes), res))
        .catch((err) => fail(res, requestId, err));
      return;
    }
    const endpoint = req.method === "GET" ? operatorEndpoints[path] : undefined;
    if (endpoint) {
      endpoint(res).catch((err) => fail(res, requestId, err));
      return;
    }
    text(res, 404, "not found\n");
  };
}

function rpcProtocol(req: NodeRequest): Protocol {
  const contentType = req.headers["content-type"] ?? "";
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}

function respondThrough(res: NodeResponse, requestId: string): Http1Respond {
  return (status, head, body) => {
    if (res.headersSent) return;
    head["x-request-id"] = requestId;
    res.writeHead(status, head);
    res.end(body);
  };
}

function text(res: NodeResponse, status: number, body: string, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": contentType });
  res.end(body);
}
