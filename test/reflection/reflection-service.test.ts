import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { parseApiKeys } from "../../src/access/api-keys.js";
import { routes } from "../../src/connect.js";
import { silentLogger } from "../../src/logger.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";

const store = openSqliteStore({ filename: ":memory:" });
afterAll(() => store.close());
const transport = createRouterTransport(routes({ store, apiKeys: parseApiKeys(), logger: silentLogger, isServing: async () => true, defaultTtlMs: 7 * 24 * 3600_000 }));

type Request = MessageInitShape<typeof v1.ServerReflectionRequestSchema>["messageRequest"];

/** Sends requests on one reflection stream and collects the answers. */
async function ask(...requests: Request[]): Promise<v1.ServerReflectionResponse[]> {
  const client = createClient(v1.ServerReflection, transport);
  async function* input() {
    for (const messageRequest of requests) yield create(v1.ServerReflectionRequestSchema, { host: "h", messageRequest });
  }
  const out: v1.ServerReflectionResponse[] = [];
  for await (const res of client.serverReflectionInfo(input())) out.push(res);
  return out;
}

function fileNames(res: v1.ServerReflectionResponse): string[] {
  if (res.messageResponse.case !== "fileDescriptorResponse") throw new Error(`got ${res.messageResponse.case}`);
  return res.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

test("finds the file of a service, a method, a message and an error detail, with dependencies sent once", async () => {
  const [service, method, message, detail] = await ask(
    { case: "fileContainingSymbol", value: "invites.v1.InvitesService" },
    { case: "fileContainingSymbol", value: "invites.v1.InvitesService.Create" },
    { case: "fileContainingSymbol", value: "invites.v1.Invite" },
    { case: "fileContainingSymbol", value: "google.rpc.ErrorInfo" },
  );
  expect(fileNames(service)).toEqual(
    expect.arrayContaining(["invites/v1/invites.proto", "buf/validate/validate.proto", "google/protobuf/timestamp.proto"]),
  );
  // Already sent on this stream: only the requested file again.
  expect(fileNames(method)).toEqual(["invites/v1/invites.proto"]);
  expect(fileNames(message)).toEqual(["invites/v1/invites.proto"]);
  expect(fileNames(detail)[0]).toBe("google/rpc/error_details.proto");
  expect(service.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "invites.v1.InvitesService" });
});

test("finds files by name and extensions by number", async () => {
  const [byName, extension, numbers] = await ask(
    { case: "fileByFilename", value: "grpc/health/v1/health.proto" },
    { case: "fileContainingExtension", value: { containingType: "google.protobuf.FieldOptions", extensionNumber: 1159 } },
    { case: "allExtensionNumbersOfType", value: "google.protobuf.FieldOptions" },
  );
  expect(fileNames(byName)).toEqual(["grpc/health/v1/health.proto"]);
  expect(fileNames(extension)[0]).toBe("buf/validate/validate.proto");
  expect(numbers.messageResponse).toMatchObject({ case: "allExtensionNumbersResponse", value: { extensionNumber: expect.arrayContaining([1159, 1160]) } });
});

test("reports unknown symbols as NOT_FOUND error responses", async () => {
  const [res] = await ask({ case: "fileContainingSymbol", value: "no.such.Thing" });
  expect(res.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
});

test("v1alpha lists the same services", async () => {
  const client = createClient(v1alpha.ServerReflection, transport);
  async function* input() {
    yield create(v1alpha.ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
  }
  const responses = [];
  for await (const res of client.serverReflectionInfo(input())) responses.push(res);
  expect(responses).toHaveLength(1);
  for (const res of responses) {
    expect(res.messageResponse.case).toBe("listServicesResponse");
    if (res.messageResponse.case === "listServicesResponse") {
      expect(res.messageResponse.value.service.map((s) => s.name)).toEqual([
        "invites.v1.InvitesService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]);
    }
  }
});
