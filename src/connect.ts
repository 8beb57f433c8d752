import type { ConnectRouter } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { Health, file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import * as reflectionV1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as reflectionV1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { InvitesService, file_invites_v1_invites } from "../gen/invites/v1/invites_pb.js";
import type { ApiKeys } from "./access/api-keys.js";
import { createHealthService } from "./health/health-service.js";
import { createM3oInterceptor } from "./http/m3o.js";
import { createAccessInterceptor } from "./interceptors/access-interceptor.js";
import { createErrorInterceptor } from "./interceptors/error-interceptor.js";
import { createValidationInterceptor } from "./interceptors/validation-interceptor.js";
import { createInvitesService } from "./invites/invites-service.js";
import type { Logger } from "./logger.js";
import { createCallRecordInterceptor } from "./observability/call-record.js";
import { createReflectionServices } from "./reflection/reflection-service.js";
import type { InviteStore } from "./store/store.js";

export interface RouteOptions {
  store: InviteStore;
  apiKeys: ApiKeys;
  logger: Logger;
  /** Whether the server can serve now, for health checks. */
  isServing: () => Promise<boolean>;
  now?: () => Date;
  defaultTtlMs: number;
}

/** The InvitesService implementation and its interceptors, outermost first. */
export function createInvitesHandlers({ store, apiKeys, logger, now, defaultTtlMs }: RouteOptions) {
  return {
    implementation: createInvitesService({ store, now, defaultTtlMs }),
    // The record sees the final outcome, errors are mapped last, access is checked before validation.
    interceptors: [
      createCallRecordInterceptor(),
      createErrorInterceptor(logger),
      createAccessInterceptor(apiKeys),
      createM3oInterceptor(),
      createValidationInterceptor(),
    ],
  };
}

/** Registers every service this server offers; `invites` may be shared with the lean path. */
export function routes(options: RouteOptions, invites = createInvitesHandlers(options)) {
  return (router: ConnectRouter) => {
    router.service(InvitesService, invites.implementation, { interceptors: invites.interceptors });
    const record = { interceptors: [createCallRecordInterceptor()] };
    router.service(Health, createHealthService({ serviceNames: [InvitesService.typeName], isServing: options.isServing }), record);
    const reflection = createReflectionServices([
      file_invites_v1_invites,
      file_grpc_health_v1_health,
      reflectionV1.file_grpc_reflection_v1_reflection,
      reflectionV1alpha.file_grpc_reflection_v1alpha_reflection,
      // Not a service's dependency, but clients need it to decode error details.
      file_google_rpc_error_details,
    ]);
    router.service(reflectionV1.ServerReflection, reflection.v1, record);
    router.service(reflectionV1alpha.ServerReflection, reflection.v1alpha, record);
  };
}
