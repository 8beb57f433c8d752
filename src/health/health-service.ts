import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { HealthCheckResponse_ServingStatus as Status, type Health } from "../../gen/grpc/health/v1/health_pb.js";

export interface HealthServiceOptions {
  /** The services that report a status; "" (the whole server) is always one. */
  serviceNames: readonly string[];
  /** Whether the server can serve now: not draining, and its store answers. */
  isServing: () => Promise<boolean>;
}

/** How often Watch re-checks the status. */
const watchIntervalMs = 1000;

/** grpc.health.v1.Health: every service shares the server's one status. */
export function createHealthService(options: HealthServiceOptions): ServiceImpl<typeof Health> {
  const names = new Set(["", ...options.serviceNames]);
  const currentStatus = async () => ((await options.isServing()) ? Status.SERVING : Status.NOT_SERVING);
  const known = (service: string) => {
    if (!names.has(service)) throw new ConnectError(`unknown service "${service}"`, Code.NotFound);
  };
  return {
    async check(req) {
      known(req.service);
      return { status: await currentStatus() };
    },
    async list() {
      const status = await currentStatus();
      return { statuses: Object.fromEntries([...names].map((name) => [name, { status }])) };
    },
    async *watch(req, ctx) {
      // An unknown service is reported, not refused, as the protocol asks of Watch.
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const status = names.has(req.service) ? await currentStatus() : Status.SERVICE_UNKNOWN;
        if (status !== last) yield { status };
        last = status;
        await sleep(watchIntervalMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      }
    },
  };
}
