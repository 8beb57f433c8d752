import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Reason, rpcError } from "../errors.js";
import { safeErrorMessage, type Logger } from "../logger.js";
import { StoreUnavailableError } from "../store/store.js";

/**
 * Turns failures that are not already RPC errors into Unavailable or
 * Internal, so no SQL or stack trace reaches a client.
 */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (err instanceof ConnectError) throw err;
      const procedure = `${req.service.typeName}/${req.method.name}`;
      if (err instanceof StoreUnavailableError) {
        logger.warn("store unavailable", { procedure, error: safeErrorMessage(err) });
        throw rpcError(Code.Unavailable, Reason.databaseUnavailable, "the database is unavailable; retry later");
      }
      logger.error("internal error", { procedure, error: safeErrorMessage(err) });
      throw rpcError(Code.Internal, Reason.databaseError, "internal error");
    }
  };
}
