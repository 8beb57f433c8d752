import { StoreUnavailableError, type InviteStore } from "./store.js";

/**
 * `store`, whose close() first lets the calls already made finish: from the
 * moment close() is called, new calls are refused as unavailable; once the
 * running ones have settled, `store.close()` runs. A second close() waits
 * for the first. For a store whose own close would strand running calls (a
 * pg pool that has ended serves no queued request, and fails later ones with
 * its own error rather than as unavailable).
 */
export function closeAfterCalls(store: InviteStore, name: string): InviteStore {
  const running = new Set<Promise<unknown>>();
  let closed: Promise<void> | undefined;

  const admit =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      if (closed) return Promise.reject(new StoreUnavailableError(`${name} store closed`));
      const call = method(...args);
      running.add(call);
      const forget = () => running.delete(call);
      call.then(forget, forget);
      return call;
    };

  const close = () => (closed ??= Promise.allSettled(running).then(() => store.close()));
  const methods = Object.entries(store).map(([key, method]) => [key, key === "close" ? close : admit(method.bind(store))]);
  return Object.fromEntries(methods) as InviteStore;
}
