import type * as http2 from "node:http2";
import {
  create,
  fromBinary,
  isMessage,
  type DescMethod,
  type DescMethodUnary,
  type Message,
  type DescService,
  type JsonReadOptions,
  type JsonWriteOptions,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { binaryEncoder } from "../codec/binary-encoder.js";
import { jsonDecoder } from "../codec/json-decoder.js";
import { jsonEncoder } from "../codec/json-encoder.js";
import { callRecordKey, type CallRecord } from "../observability/call-record.js";
import type { RequestObserver } from "../observability/request-observer.js";
import { encodeGrpcMessage } from "./grpc-message.js";
import { headersView } from "./headers-view.js";
import { LazyAbort, LeanRequest, LeanResponse, PlainContext } from "./lean-call.js";
import { timeoutOf, wireOf, type Wire } from "./lean-wire.js";
import { BodyTooLargeError, readBody } from "./read-body.js";

type UnaryImpl = (request: unknown, context: HandlerContext) => Promise<unknown> | unknown;

/** What the handler answered, encoded (JSON as text, which Node encodes as it writes), with any headers and trailers it set. */
interface Answer {
  body: Uint8Array | string;
  header?: Headers;
  trailer?: Headers;
}

export interface LeanUnaryOptions {
  service: DescService;
  /** The same implementation connect-node serves. */
  implementation: Record<string, unknown>;
  /** The same interceptors, outermost first. */
  interceptors: Interceptor[];
  jsonOptions: Partial<JsonReadOptions & JsonWriteOptions>;
  maxBodyBytes: number;
  observe: RequestObserver;
}

/** Writes an HTTP/1.1 answer: the head holds every field but x-request-id, content-length included. */
export type Http1Respond = (status: number, head: Record<string, string>, body: Uint8Array | string) => void;

/** A method the lean path serves, with its interceptor chain around the handler. */
interface Entry {
  method: DescMethodUnary;
  /** The request path, /package.Service/Method. */
  url: string;
  call: (req: UnaryRequest) => Promise<UnaryResponse>;
  encodeBinary: (message: Message) => Uint8Array;
  encodeJson: (message: Message) => string;
  decodeJson: (text: string) => Message;
}

/**
 * A lean path for the common calls: unary methods of one service, gRPC over
 * HTTP/2 and Connect (proto or JSON) over HTTP/1.1 and HTTP/2, uncompressed.
 * It runs the same interceptors and handlers as connect-node, answers with
 * the same error encoding, and declines everything else (compression, GET,
 * gRPC-Web, streaming) so that connect-node serves it.
 */
export function createLeanUnary(options: LeanUnaryOptions) {
  const { service, interceptors, jsonOptions, maxBodyBytes, observe } = options;
  const methods = new Map<string, Entry>();
  for (const method of service.methods) {
    const impl = options.implementation[method.localName] as UnaryImpl | undefined;
    if (method.methodKind !== "unary" || !impl) continue;
    const unary = method as DescMethodUnary;
    const url = `/${service.typeName}/${method.name}`;
    methods.set(url, {
      method: unary, url, call: chain(unary, impl),
      encodeBinary: binaryEncoder(unary.output),
      encodeJson: jsonEncoder(unary.output, jsonOptions),
      decodeJson: jsonDecoder(unary.input, jsonOptions),
    });
  }

  function chain(method: DescMethodUnary, impl: UnaryImpl) {
    const final = async (req: UnaryRequest): Promise<UnaryResponse> => {
      const { ctx } = req as LeanRequest;
      const output = await impl(req.message, ctx);
      const message = isMessage(output, method.output) ? output : create(method.output, output as never);
      return new LeanResponse(service, method, message, ctx);
    };
    return interceptors.reduceRight((next, interceptor) => interceptor(next as never) as never, final);
  }

  /** Decodes, runs the interceptors and the handler under the deadline, and encodes the answer or the error. */
  async function run(
    entry: Entry,
    wire: Wire,
    body: Buffer | string,
    header: Headers,
    timeoutMs: number | undefined,
    contextValues: ContextValues,
    cancel: LazyAbort,
  ): Promise<Answer> {
    const { method, url, encodeBinary, encodeJson } = entry;
    const message = decode(entry, wire, body);
    const protocolName = wire === "grpc" ? "grpc" : "connect";
    const encode = (res: UnaryResponse) => (wire === "json" ? encodeJson(res.message) : encodeBinary(res.message));
    const request = (ctx: HandlerContext) => new LeanRequest(service, method, url, header, contextValues, message, ctx);
    if (timeoutMs === undefined) {
      // Most calls have no deadline: a plain context spares connect's timers and linked signals.
      const ctx = new PlainContext(service, method, protocolName, url, header, contextValues, cancel);
      const res = await entry.call(request(ctx));
      return { body: encode(res), header: ctx.touchedHeader, trailer: ctx.touchedTrailer };
    }
    const ctx = createHandlerContext({ service, method, protocolName, requestMethod: "POST", url, timeoutMs, requestSignal: cancel.signal, requestHeader: header, contextValues });
    const deadline = new Promise<never>((_, reject) => ctx.signal.addEventListener("abort", () => reject(ConnectError.from(ctx.signal.reason)), { once: true }));
    try {
      const res = await Promise.race([entry.call(request(ctx)), deadline]);
      return { body: encode(res), header: ctx.responseHeader, trailer: ctx.responseTrailer };
    } finally {
      ctx.abort();
    }
  }

  /** Decodes a body as received, or JSON a caller has already read as text. */
  function decode({ method, decodeJson }: Entry, wire: Wire, body: Buffer | string) {
    try {
      if (typeof body === "string") return decodeJson(body);
      if (wire === "json") return decodeJson(body.toString("utf8") || "{}");
      if (wire === "proto") return fromBinary(method.input, body);
      if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
        throw new ConnectError("protocol error: expected one uncompressed gRPC message", Code.InvalidArgument);
      }
      return fromBinary(method.input, body.subarray(5));
    } catch (err) {
      if (err instanceof ConnectError) throw err;
      throw new ConnectError(`cannot decode message ${method.input.typeName}: ${(err as Error).message}`, Code.InvalidArgument);
    }
  }

  /** Answers through `reply` once the body has arrived: the part every transport shares. */
  function serve(
    body: Promise<Buffer> | Buffer,
    headers: http2.IncomingHttpHeaders,
    entry: Entry,
    wire: Wire,
    record: CallRecord,
    cancel: LazyAbort,
    reply: { answer(answer: Answer): void; error(error: ConnectError): void },
  ): void {
    Promise.resolve(body)
      .then((body) => run(entry, wire, body, headersView(headers), timeoutOf(wire, headers), createContextValues().set(callRecordKey, record), cancel))
      .then(reply.answer, (err) => {
        const tooLarge = err instanceof BodyTooLargeError;
        reply.error(tooLarge ? new ConnectError(`message larger than ${maxBodyBytes} bytes`, Code.ResourceExhausted) : ConnectError.from(err));
      });
  }

  // Connect's unary calls over HTTP/1.1; gRPC needs trailers, which HTTP/1.1 answers here do not carry.
  const http1Route = (method: string | undefined, path: string | undefined, headers: http2.IncomingHttpHeaders) => {
    const entry = method === "POST" ? methods.get(path ?? "") : undefined;
    const wire = entry && wireOf(headers["content-type"], headers["content-encoding"]);
    return entry && wire && wire !== "grpc" ? { entry, wire } : undefined;
  };

  return {
    /**
     * Serves an HTTP/2 stream if it is one of the lean cases; returns false
     * to leave it to connect-node. Every answer carries `answerFields` (CORS).
     */
    http2Stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, answerFields?: Record<string, string>): boolean {
      const entry = headers[":method"] === "POST" ? methods.get(headers[":path"] ?? "") : undefined;
      const contentType = headers["content-type"];
      const wire = entry && wireOf(contentType, (headers["grpc-encoding"] ?? headers["content-encoding"]) as string | undefined);
      if (!entry || !wire) return false;
      const record: CallRecord = {};
      const requestId = typeof headers["x-request-id"] === "string" ? headers["x-request-id"] : undefined;
      const observation = observe.begin(requestId, wire === "grpc" ? "grpc" : "connect", headers[":path"] ?? "");
      let status = 200;
      const cancel = new LazyAbort();
      stream.once("close", () => {
        const finished = !stream.aborted && stream.rstCode === 0;
        if (!finished) cancel.abort();
        observation.end(status, finished, record);
      });
      stream.on("error", ignore);
      const base: Record<string, string> = { ...answerFields, "x-request-id": observation.requestId };
      serve(readBody(stream, maxBodyBytes, headers["content-length"]), headers, entry, wire, record, cancel, {
        answer(answer) {
          if (stream.destroyed) return;
          if (wire !== "grpc") {
            stream.respond({ ...connectHeaders(answer), ...base, ":status": 200, "content-type": contentType });
            stream.end(answer.body);
            return;
          }
          stream.respond({ ...plain(answer.header), ...base, ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
          stream.once("wantTrailers", () => stream.sendTrailers({ ...plain(answer.trailer), "grpc-status": "0" }));
          const body = answer.body as Uint8Array;
          const frame = Buffer.allocUnsafe(5 + body.length);
          frame[0] = 0;
          frame.writeUInt32BE(body.length, 1);
          frame.set(body, 5);
          stream.end(frame);
        },
        error(error) {
          if (stream.destroyed || stream.headersSent) return;
          if (wire === "grpc") {
            // Trailers-only: the status goes in the headers frame, which ends the stream.
            const fields: http2.OutgoingHttpHeaders = { ...base, ":status": 200, "content-type": "application/grpc+proto" };
            setTrailerStatus(new Headers(), error).forEach((value, name) => (fields[name] = name === "grpc-message" ? encodeGrpcMessage(error.rawMessage) : value));
            stream.respond(fields, { endStream: true });
            return;
          }
          status = codeToHttpStatus(error.code);
          stream.respond({ ...base, ":status": status, "content-type": "application/json" });
          stream.end(errorToJsonBytes(error, jsonOptions));
        },
      });
      return true;
    },

    /**
     * Runs a JSON call for an M3O path, if the lean path serves `method`: the
     * same decoding, interceptors and handler as a Connect JSON call. Resolves
     * to the JSON answer, rejects with the ConnectError; the M3O handler gives
     * both M3O's shape. Undefined for a method the lean path does not serve.
     */
    m3oCall(method: DescMethod): ((json: string, header: Headers, contextValues: ContextValues, cancel: LazyAbort) => Promise<string>) | undefined {
      const entry = methods.get(`/${service.typeName}/${method.name}`);
      if (!entry || entry.method !== method) return undefined;
      return (json, header, contextValues, cancel) => run(entry, "json", json, header, undefined, contextValues, cancel).then((answer) => answer.body as string);
    },

    /**
     * Serves a Connect unary call over HTTP/1.1 if it is one of the lean
     * cases, answering through `respond` with the status, the whole head but
     * x-request-id, and the body; returns false, having read nothing, to
     * leave it to connect-node. `body` may still be arriving.
     */
    http1(
      method: string | undefined,
      path: string | undefined,
      headers: http2.IncomingHttpHeaders,
      body: () => Promise<Buffer> | Buffer,
      record: CallRecord,
      cancel: LazyAbort,
      respond: Http1Respond,
    ): boolean {
      const route = http1Route(method, path, headers);
      if (!route) return false;
      const contentType = headers["content-type"];
      serve(body(), headers, route.entry, route.wire, record, cancel, {
        answer(answer) {
          const head = connectHeaders(answer);
          head["content-type"] = contentType!;
          head["content-length"] = String(byteLength(answer.body));
          respond(200, head, answer.body);
        },
        error(error) {
          const body = errorToJsonBytes(error, jsonOptions);
          respond(codeToHttpStatus(error.code), { "content-type": "application/json", "content-length": String(body.length) }, body);
        },
      });
      return true;
    },

    /** Whether http1 serves a call of this method, path and head: known before the body has come. */
    http1Serves: (method: string, path: string, headers: http2.IncomingHttpHeaders) => http1Route(method, path, headers) !== undefined,

    /** The most a request body may hold. */
    maxBodyBytes,
  };
}

export type LeanUnary = ReturnType<typeof createLeanUnary>;

// One function for every stream: a closure made per call would hold the
// call's objects for as long as Node keeps the stream, which outlives the call.
const ignore = () => undefined;

function plain(headers: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  headers?.forEach((value, name) => (out[name] = value));
  return out;
}

function byteLength(body: Uint8Array | string): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.length;
}

/** Connect unary sends trailers as headers prefixed with "trailer-". */
function connectHeaders(answer: Answer): Record<string, string> {
  const out = plain(answer.header);
  answer.trailer?.forEach((value, name) => (out[`trailer-${name}`] = value));
  return out;
}
