import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { anyNamespace, type ApiKeys } from "../access/api-keys.js";
import { Reason, rpcError } from "../errors.js";
import { defaultNamespace, isValidNamespace, namespaceKey } from "../invites/namespace.js";
import { callRecordKey } from "../observability/call-record.js";

const namespaceHeader = "micro-namespace";

/**
 * Resolves the namespace of each InvitesService call and checks its API key.
 * Registered on InvitesService alone: health and reflection stay open so
 * probes and `buf curl` can find the API.
 */
export function createAccessInterceptor(keys: ApiKeys): Interceptor {
  // Not an async function: the call's own promise passes through, without one more around it.
  return (next) => (req) => {
    const requested = req.header.get(namespaceHeader) ?? undefined;
    if (requested !== undefined && !isValidNamespace(requested)) {
      return Promise.reject(
        rpcError(Code.InvalidArgument, Reason.invalidNamespace, `${namespaceHeader}: must be 1-64 letters, digits, '.', '_' or '-'`, {
          field: namespaceHeader,
        }),
      );
    }
    const namespace = resolveNamespace(keys, req.header.get("authorization"), requested);
    if (namespace instanceof ConnectError) return Promise.reject(namespace);
    req.contextValues.set(namespaceKey, namespace);
    const record = req.contextValues.get(callRecordKey);
    if (record) record.namespace = namespace;
    return next(req);
  };
}

/** The call's namespace, or the error that refuses it. */
function resolveNamespace(keys: ApiKeys, authorization: string | null, requested: string | undefined): string | ConnectError {
  if (keys.size === 0) return requested ?? defaultNamespace;
  const key = /^Bearer +(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  const bound = key === undefined ? undefined : keys.lookup(key);
  if (bound === undefined) {
    return rpcError(Code.Unauthenticated, Reason.unauthenticated, "authorization: a valid 'Bearer <API key>' is required");
  }
  if (bound === anyNamespace) return requested ?? defaultNamespace;
  if (requested !== undefined && requested !== bound) {
    return rpcError(Code.PermissionDenied, Reason.permissionDenied, `${namespaceHeader}: this API key may not act in namespace "${requested}"`);
  }
  return bound;
}
