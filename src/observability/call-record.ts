import { ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { errorReason } from "../errors.js";

/** What the interceptors learn about a call, for its one log line and its metrics. */
export interface CallRecord {
  procedure?: string;
  /** A Connect code name, such as "invalid_argument", or "ok". */
  code?: string;
  reason?: string;
  namespace?: string;
}

/** Set per request by the HTTP layer; absent for calls made another way (such as in-memory tests). */
export const callRecordKey = createContextKey<CallRecord | undefined>(undefined, { description: "call record" });

/** Outermost interceptor: notes the procedure and the outcome (the access interceptor notes the namespace). */
export function createCallRecordInterceptor(): Interceptor {
  return (next) => async (req) => {
    const record = req.contextValues.get(callRecordKey);
    if (!record) return next(req);
    record.procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      record.code = "ok";
      return res;
    } catch (err) {
      const error = ConnectError.from(err);
      record.code = codeToString(error.code);
      record.reason = errorReason(error);
      throw err;
    }
  };
}
