import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";

type Method = (typeof InvitesService.method)[keyof typeof InvitesService.method];

export type GrpcJsInvitesClient = {
  [K in keyof typeof InvitesService.method]: (
    request: MessageInitShape<(typeof InvitesService.method)[K]["input"]>,
    metadata?: Record<string, string>,
  ) => Promise<MessageShape<(typeof InvitesService.method)[K]["output"]>>;
} & { close(): void };

/** A plain @grpc/grpc-js client for InvitesService, (de)serialising with the generated schemas. */
export function createGrpcJsClient(address: string): GrpcJsInvitesClient {
  const definition = serviceDefinition(InvitesService);
  const Client = grpc.makeGenericClientConstructor(definition, InvitesService.typeName);
  const client = new Client(address, grpc.credentials.createInsecure()) as unknown as Record<string, Function> & grpc.Client;
  const methods = Object.fromEntries(
    Object.entries(InvitesService.method).map(([localName, method]: [string, Method]) => [
      localName,
      (request: object, metadata: Record<string, string> = {}) =>
        new Promise((resolve, reject) => {
          const md = new grpc.Metadata();
          for (const [key, value] of Object.entries(metadata)) md.set(key, value);
          client[method.name](create(method.input as DescMessage, request as never), md, (err: grpc.ServiceError | null, res: unknown) =>
            err ? reject(err) : resolve(res),
          );
        }),
    ]),
  );
  return { ...methods, close: () => client.close() } as GrpcJsInvitesClient;
}

function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  return Object.fromEntries(
    service.methods.map((method) => [
      method.name,
      {
        path: `/${service.typeName}/${method.name}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: (message: MessageShape<DescMessage>) => Buffer.from(toBinary(method.input, message)),
        requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
        responseSerialize: (message: MessageShape<DescMessage>) => Buffer.from(toBinary(method.output, message)),
        responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
      },
    ]),
  );
}
