import { createContextKey } from "@connectrpc/connect";

export const defaultNamespace = "default";

/** The namespace a call acts in, set by the access interceptor. */
export const namespaceKey = createContextKey<string>(defaultNamespace, { description: "invites namespace" });

const namespacePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidNamespace(namespace: string): boolean {
  return namespacePattern.test(namespace);
}
