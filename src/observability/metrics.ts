import { Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { labeledCounter, labeledHistogram } from "./labeled-metrics.js";
import type { InviteStore } from "../store/store.js";

export type Metrics = ReturnType<typeof createMetrics>;

/** The service's Prometheus metrics, in a registry of its own (with process metrics). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  return {
    registry,
    /** Label values: procedure, protocol (grpc, grpc-web, connect, m3o), code. */
    requests: labeledCounter({
      registry,
      name: "invites_requests_total",
      help: "Requests by procedure, protocol (grpc, grpc-web, connect, m3o) and code.",
      labelNames: ["procedure", "protocol", "code"],
    }),
    /** Label values: procedure, protocol. */
    requestDuration: labeledHistogram({
      registry,
      name: "invites_request_duration_seconds",
      help: "Request latency by procedure and protocol.",
      labelNames: ["procedure", "protocol"],
      buckets,
    }),
    /** Label values: operation, outcome. */
    storeDuration: labeledHistogram({
      registry,
      name: "invites_store_duration_seconds",
      help: "Store operation latency, by operation and outcome (ok or error).",
      labelNames: ["operation", "outcome"],
      buckets,
    }),
    /** Label values: change. */
    invites: labeledCounter({
      registry,
      name: "invites_changes_total",
      help: "Invites created, accepted (each use), revoked and deleted.",
      labelNames: ["change"],
    }),
    /** SQLite only: each restart of the WAL, whose last checkpoint pass holds writes. */
    sqliteWritesHeld: new Histogram({
      name: "invites_sqlite_writes_held_seconds",
      help: "How long SQLite writes waited while the WAL restarted.",
      buckets,
      registers: [registry],
    }),
  };
}

/** The store, timing every operation and counting the changes it makes. */
export function instrumentStore(store: InviteStore, metrics: Metrics): InviteStore {
  const timed = <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>, count?: (result: R) => string | undefined) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      const end = (outcome: string) => metrics.storeDuration.observe([operation, outcome], (performance.now() - started) / 1000);
      try {
        const result = await fn(...args);
        end("ok");
        const change = count?.(result);
        if (change) metrics.invites.inc([change]);
        return result;
      } catch (err) {
        end("error");
        throw err;
      }
    };
  return {
    createInvite: timed("createInvite", store.createInvite, (r) => (r.created ? "created" : undefined)),
    findInviteById: timed("findInviteById", store.findInviteById),
    findInviteByCode: timed("findInviteByCode", store.findInviteByCode),
    listInvites: timed("listInvites", store.listInvites),
    deleteInvite: timed("deleteInvite", store.deleteInvite, (removed) => (removed ? "deleted" : undefined)),
    acceptInvite: timed("acceptInvite", store.acceptInvite, (r) => (r.kind === "changed" ? "accepted" : undefined)),
    revokeInvite: timed("revokeInvite", store.revokeInvite, (r) => (r.kind === "changed" ? "revoked" : undefined)),
    renewInvite: timed("renewInvite", store.renewInvite),
    listAcceptances: timed("listAcceptances", store.listAcceptances),
    purgeInvites: timed("purgeInvites", store.purgeInvites),
    ping: timed("ping", store.ping),
    close: store.close,
  };
}
