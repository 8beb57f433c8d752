import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { Logger } from "../logger.js";
import { createCorsHandler } from "./cors.js";
import { withSpecGrpcMessage } from "./grpc-message.js";
import { createM3oHandler } from "./m3o.js";
import type { NodeHandler, NodeResponse } from "./node-types.js";

export interface HttpHandlerOptions {
  router: ConnectRouter;
  corsOrigins: readonly string[];
  maxBodyBytes: number;
  logger: Logger;
}

/**
 * One request handler for HTTP/1.1 and HTTP/2: CORS, then the gRPC, gRPC-Web
 * and Connect routes, then the M3O paths; anything else is 404.
 */
export function createHttpHandler({ router, corsOrigins, maxBodyBytes, logger }: HttpHandlerOptions): NodeHandler {
  const routes = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  const handleCors = createCorsHandler(corsOrigins);
  const handleM3o = createM3oHandler(router.handlers, maxBodyBytes);

  const fail = (res: NodeResponse, err: unknown) => {
    if (ConnectError.from(err).code === Code.Aborted) return;
    logger.error("request failed", { error: err instanceof Error ? err.message : String(err) });
    if (!res.headersSent) res.writeHead(500);
    res.end();
  };

  return function handleRequest(req, res) {
    if (handleCors(req, res)) return;
    const handler = routes.get((req.url ?? "").split("?", 1)[0]);
    if (handler) {
      handler(universalRequestFromNodeRequest(req, res, undefined, undefined))
        .then((uRes) => universalResponseToNodeResponse(withSpecGrpcMessage(uRes), res))
        .catch((err) => fail(res, err));
      return;
    }
    handleM3o(req, res)
      .then((handled) => {
        if (handled) return;
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found\n");
      })
      .catch((err) => fail(res, err));
  };
}
