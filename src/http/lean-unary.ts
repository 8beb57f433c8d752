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
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { binaryEncoder } from "../codec/binary-encoder.js";
import { jsonDecoder } from "../codec/json-decoder.js";
import { jsonEncoder } from "../codec/json-encoder.js";
import { callRecordKey, type CallRecord } from "../observability/call-record.js";
import type { RequestObserver } from "../observability/request-observer.js";
import { connectGetMessage, readConnectGetQuery } from "./connect-get.js";
import { headersView } from "./headers-view.js";
import { LazyAbort, LeanRequest, LeanResponse, PlainContext } from "./lean-call.js";
import { grpcFrame, readUnaryFrames } from "./grpc-framing.js";
import { answerParts, byteLength, errorParts, grpcStatusFields, plain, type Answer } from "./lean-answer.js";
import { protocolOf, timeoutOf, wireOf, type Wire } from "./lean-wire.js";
import { BodyTooLargeError, readBody } from "./read-body.js";

type UnaryImpl = (request: unknown, context: HandlerContext) => Promise<unknown> | unknown;

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

/** A call the lean path serves, judged on its head; a GET's message is in its query. */
export interface LeanRoute {
  entry: Entry;
  wire: Wire;
  query?: URLSearchParams;
}

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
 * HTTP/2, gRPC-Web (binary) and Connect (proto or JSON, POST or GET) over
 * HTTP/1.1 and HTTP/2, uncompressed. It runs the same interceptors and
 * handlers as connect-node, answers with the same error encoding, and
 * declines everything else (compression, gRPC-Web's text kind, streaming)
 * so that connect-node serves it.
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
    { entry, wire, query }: LeanRoute,
    body: Buffer | string,
    header: Headers,
    timeoutMs: number | undefined,
    contextValues: ContextValues,
    cancel: LazyAbort,
  ): Promise<Answer> {
    const { method, url, encodeBinary, encodeJson } = entry;
    const message = decode(entry, wire, body);
    const protocolName = protocolOf(wire);
    const requestMethod = query ? "GET" : "POST";
    const encode = (res: UnaryResponse) => (wire === "json" ? encodeJson(res.message) : encodeBinary(res.message));
    const request = (ctx: HandlerContext) => new LeanRequest(service, method, requestMethod, url, header, contextValues, message, ctx);
    if (timeoutMs === undefined) {
      // Most calls have no deadline: a plain context spares connect's timers and linked signals.
      const ctx = new PlainContext(service, method, requestMethod, protocolName, url, header, contextValues, cancel);
      const res = await entry.call(request(ctx));
      return { body: encode(res), header: ctx.touchedHeader, trailer: ctx.touchedTrailer };
    }
    const ctx = createHandlerContext({ service, method, protocolName, requestMethod, url, timeoutMs, requestSignal: cancel.signal, requestHeader: header, contextValues });
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
    if (typeof body === "string" || wire === "json") {
      const text = typeof body === "string" ? body : body.toString("utf8");
      try {
        // connect-node decodes with TextDecoder, which drops a byte-order mark.
        return decodeJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      } catch (err) {
        // protobuf-es names the message in its error, which connect-node passes on as it is.
        throw new ConnectError((err as Error).message, Code.InvalidArgument);
      }
    }
    const parse = (data: Buffer) => {
      try {
        return fromBinary(method.input, data);
      } catch (err) {
        throw new ConnectError(`cannot decode message ${method.input.typeName}: ${(err as Error).message}`, Code.InvalidArgument);
      }
    };
    return wire === "proto" ? parse(body) : readUnaryFrames(body, wire === "grpc-web", maxBodyBytes, parse);
  }

  /** Answers through `reply` once the body has arrived: the part every transport shares. */
  function serve(
    body: () => Promise<Buffer> | Buffer,
    headers: http2.IncomingHttpHeaders,
    route: LeanRoute,
    record: CallRecord,
    cancel: LazyAbort,
    reply: { answer(answer: Answer): void; error(error: ConnectError): void },
  ): void {
    let message: Promise<Buffer> | Buffer;
    let timeoutMs: number | undefined;
    try {
      // As connect-node: a malformed deadline is refused before the message is read.
      timeoutMs = timeoutOf(route.wire, headers);
      message = route.query ? connectGetMessage(route.query) : body();
    } catch (err) {
      message = Promise.reject(err);
    }
    Promise.resolve(message)
      .then((body) => run(route, body, headersView(headers), timeoutMs, createContextValues().set(callRecordKey, record), cancel))
      .then(reply.answer, (err) => {
        const tooLarge = err instanceof BodyTooLargeError;
        const error = tooLarge ? new ConnectError(`message larger than ${maxBodyBytes} bytes`, Code.ResourceExhausted) : ConnectError.from(err);
        // An error before the interceptors (a message that does not decode, a malformed deadline) has no outcome recorded yet.
        record.code ??= codeToString(error.code);
        reply.error(error);
      });
  }

  /** A POST's route, if its content type and compression are lean cases. */
  function postRoute(method: string | undefined, path: string, headers: http2.IncomingHttpHeaders): LeanRoute | undefined {
    const entry = method === "POST" ? methods.get(path) : undefined;
    const wire = entry && wireOf(headers);
    return wire && { entry, wire };
  }

  /** A Connect GET of a method without side effects, as connect-node serves it, if its query is one of the lean cases. */
  function getRoute(target: string): LeanRoute | undefined {
    const mark = target.indexOf("?");
    const entry = mark < 0 ? undefined : methods.get(target.slice(0, mark));
    if (entry?.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return undefined;
    const query = readConnectGetQuery(target.slice(mark + 1));
    return query && { entry, wire: query.wire, query: query.params };
  }

  return {
    /**
     * Serves an HTTP/2 stream if it is one of the lean cases; returns false
     * to leave it to connect-node. Every answer carries `answerFields` (CORS).
     */
    http2Stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, answerFields?: Record<string, string>): boolean {
      const path = headers[":path"] ?? "";
      // A GET that carries a body is connect-node's to answer.
      const route = headers[":method"] === "GET"
        ? stream.endAfterHeaders ? getRoute(path) : undefined
        : postRoute(headers[":method"], path, headers);
      if (!route) return false;
      const { wire } = route;
      const record: CallRecord = {};
      const requestId = typeof headers["x-request-id"] === "string" ? headers["x-request-id"] : undefined;
      const observation = observe.begin(requestId, protocolOf(wire), path);
      let status = 200;
      const cancel = new LazyAbort();
      stream.once("close", () => {
        const finished = !stream.aborted && stream.rstCode === 0;
        if (!finished) cancel.abort();
        observation.end(status, finished, record);
      });
      stream.on("error", ignore);
      const base: Record<string, string> = { ...answerFields, "x-request-id": observation.requestId };
      serve(() => readBody(stream, maxBodyBytes, headers["content-length"]), headers, route, record, cancel, {
        answer(answer) {
          if (stream.destroyed) return;
          if (wire !== "grpc") {
            const { head, body } = answerParts(wire, answer);
            stream.respond({ ...head, ...base, ":status": 200 });
            stream.end(body);
            return;
          }
          stream.respond({ ...plain(answer.header), ...base, ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
          stream.once("wantTrailers", () => stream.sendTrailers({ ...plain(answer.trailer), "grpc-status": "0" }));
          stream.end(grpcFrame(0, answer.body as Uint8Array));
        },
        error(error) {
          if (stream.destroyed || stream.headersSent) return;
          if (wire === "grpc") {
            // Trailers-only: the status goes in the headers frame, which ends the stream.
            stream.respond({ ...base, ":status": 200, "content-type": "application/grpc+proto", ...grpcStatusFields(error) }, { endStream: true });
            return;
          }
          const parts = errorParts(wire, error, jsonOptions);
          status = parts.status;
          stream.respond({ ...parts.head, ...base, ":status": status });
          stream.end(parts.body);
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
      const route: LeanRoute = { entry, wire: "json" };
      return (json, header, contextValues, cancel) => run(route, json, header, undefined, contextValues, cancel).then((answer) => answer.body as string);
    },

    /**
     * The route of a Connect unary call over HTTP/1.1 that the lean path
     * serves, judged on its head before its body has come; undefined to
     * leave it to connect-node. gRPC needs trailers, which HTTP/1.1 answers
     * here do not carry; gRPC-Web carries them in the body.
     */
    http1Route(method: string | undefined, target: string, headers: http2.IncomingHttpHeaders): LeanRoute | undefined {
      if (method === "GET") return getRoute(target);
      const route = postRoute(method, target, headers);
      return route?.wire === "grpc" ? undefined : route;
    },

    /**
     * Serves a call on its http1Route, answering through `respond` with the
     * status, the whole head but x-request-id, and the body. `body` may
     * still be arriving; a GET's is not read.
     */
    http1(route: LeanRoute, headers: http2.IncomingHttpHeaders, body: () => Promise<Buffer> | Buffer, record: CallRecord, cancel: LazyAbort, respond: Http1Respond): void {
      serve(body, headers, route, record, cancel, {
        answer(answer) {
          const { head, body } = answerParts(route.wire, answer);
          // HTTP/1.1 answers here are framed by their length, gRPC-Web's too.
          head["content-length"] ??= String(byteLength(body));
          respond(200, head, body);
        },
        error(error) {
          const { status, head, body } = errorParts(route.wire, error, jsonOptions);
          head["content-length"] ??= String(byteLength(body));
          respond(status, head, body);
        },
      });
    },

    /** The most a request body may hold. */
    maxBodyBytes,
  };
}

export type LeanUnary = ReturnType<typeof createLeanUnary>;

// One function for every stream: a closure made per call would hold the
// call's objects for as long as Node keeps the stream, which outlives the call.
const ignore = () => undefined;
