import { toBinary, type DescFile, type MessageInitShape } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

type Request = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;
type Response = MessageInitShape<typeof v1.ServerReflectionResponseSchema>;


/**
 * gRPC server reflection (v1 and v1alpha) over the descriptors compiled into
 * gen/, so tools like `buf curl` and grpcurl need no schema of their own.
 */
export function createReflectionServices(files: readonly DescFile[]) {
  const answer = createReflector(files);
  const v1Service: ServiceImpl<typeof v1.ServerReflection> = {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const req of requests) yield answer(req, sent);
    },
  };
  const v1alphaService: ServiceImpl<typeof v1alpha.ServerReflection> = {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const req of requests) yield answer(req, sent) as MessageInitShape<typeof v1alpha.ServerReflectionResponseSchema>;
    },
  };
  return { v1: v1Service, v1alpha: v1alphaService };
}

function createReflector(roots: readonly DescFile[]) {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const extensions = new Map<string, Map<number, DescFile>>();
  const services: string[] = [];
  const addFile = (file: DescFile) => {
    if (files.has(file.name + ".proto")) return;
    files.set(file.name + ".proto", file);
    file.dependencies.forEach(addFile);
    for (const type of nestedTypes(file)) {
      symbols.set(type.typeName, file);
      if (type.kind === "service") type.methods.forEach((m) => symbols.set(`${type.typeName}.${m.name}`, file));
      if (type.kind === "extension") {
        const numbers = extensions.get(type.extendee.typeName) ?? new Map<number, DescFile>();
        extensions.set(type.extendee.typeName, numbers.set(type.number, file));
      }
    }
  };
  roots.forEach(addFile);
  for (const root of roots) services.push(...root.services.map((s) => s.typeName));
  const encoded = new Map([...files].map(([name, file]) => [name, toBinary(FileDescriptorProtoSchema, file.proto)]));

  // A file and every dependency this stream has not been sent yet.
  const withDependencies = (file: DescFile, sent: Set<string>): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const visit = (f: DescFile, requested: boolean) => {
      const name = f.name + ".proto";
      if (!requested && sent.has(name)) return;
      sent.add(name);
      out.push(encoded.get(name) as Uint8Array);
      f.dependencies.forEach((dep) => visit(dep, false));
    };
    visit(file, true);
    return out;
  };

  return (req: Request, sent: Set<string>): Response => {
    const { messageRequest } = req;
    const base = { validHost: req.host, originalRequest: copyRequest(req) };
    const fileResponse = (file: DescFile | undefined, what: string): Response =>
      file
        ? { ...base, messageResponse: { case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file, sent) } } }
        : { ...base, messageResponse: { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } } };
    switch (messageRequest.case) {
      case "listServices":
        return { ...base, messageResponse: { case: "listServicesResponse", value: { service: services.map((name) => ({ name })) } } };
      case "fileByFilename":
        return fileResponse(files.get(messageRequest.value), `file ${messageRequest.value}`);
      case "fileContainingSymbol":
        return fileResponse(symbols.get(messageRequest.value), `symbol ${messageRequest.value}`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = messageRequest.value;
        return fileResponse(extensions.get(containingType)?.get(extensionNumber), `extension ${containingType}(${extensionNumber})`);
      }
      case "allExtensionNumbersOfType": {
        const type = messageRequest.value;
        if (!symbols.has(type)) return fileResponse(undefined, `type ${type}`);
        const numbers = [...(extensions.get(type)?.keys() ?? [])];
        return { ...base, messageResponse: { case: "allExtensionNumbersResponse", value: { baseTypeName: type, extensionNumber: numbers } } };
      }
      default:
        return { ...base, messageResponse: { case: "errorResponse", value: { errorCode: Code.Unimplemented, errorMessage: "unsupported request" } } };
    }
  };
}

// The request echoed back, as plain fields so v1 and v1alpha share one answer.
function copyRequest(req: Request): Response["originalRequest"] {
  const { messageRequest } = req;
  if (messageRequest.case === "fileContainingExtension") {
    const { containingType, extensionNumber } = messageRequest.value;
    return { host: req.host, messageRequest: { case: messageRequest.case, value: { containingType, extensionNumber } } };
  }
  return { host: req.host, messageRequest: messageRequest.case === undefined ? { case: undefined } : { ...messageRequest } };
}
