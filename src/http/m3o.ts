import { STATUS_CODES, type IncomingHttpHeaders } from "node:http";
import { fromBinary, isMessage, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, createContextValues, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { codeToHttpStatus, codeToString } from "@connectrpc/connect/protocol-connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { CreateRequestSchema, InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { errorReason, rpcError } from "../errors.js";
import { callRecordKey, type CallRecord } from "../observability/call-record.js";
import type { NodeRequest, NodeResponse } from "./node-types.js";
import { abortWhenClientLeaves, type LazyAbort } from "./lean-call.js";
import type { Http1Respond, LeanUnary } from "./lean-unary.js";
import { BodyTooLargeError, readBody } from "./read-body.js";

type M3oLeanCall = NonNullable<ReturnType<LeanUnary["m3oCall"]>>;

// The seed's form, and the form of M3O's client libraries; matched case-insensitively.
const m3oPath = /^\/(?:invites\/invites|v1\/invites)\/([a-z]+)\/?$/i;
const forwardedHeaders = ["authorization", "micro-namespace", "x-request-id"];

const m3oCallKey = createContextKey(false, { description: "called on an M3O path" });

/**
 * M3O invites were always for an email, so its paths offer no open links:
 * Create without email is refused there, before the proto's own rules.
 */
export function createM3oInterceptor(): Interceptor {
  // Not an async function: the call's own promise passes through, without one more around it.
  return (next) => (req) => {
    if (req.contextValues.get(m3oCallKey) && !req.stream && isMessage(req.message, CreateRequestSchema) && req.message.email.trim() === "") {
      return Promise.reject(rpcError(Code.InvalidArgument, "MISSING_EMAIL", "email: value is required", { field: "email" }));
    }
    return next(req);
  };
}

/** What a call on an M3O path answered: its JSON, or the parts of M3O's error. */
type M3oAnswer = { ok: true; body: string | Uint8Array } | { ok: false; status: number; id: string; detail: string };
const invalidJson: M3oAnswer = { ok: false, status: 400, id: "INVALID_JSON", detail: "the request body is not valid JSON" };

/**
 * The HTTP surface of the hosted M3O invites API, served by the same
 * handlers as Connect: each call goes to the lean path's JSON call where it
 * serves the method, else to connect-node's Connect JSON handler, and its
 * error, if any, is rewritten into M3O's shape.
 */
export function createM3oHandler(handlers: readonly UniversalHandler[], maxBodyBytes: number, lean?: LeanUnary) {
  const byMethod = new Map<string, UniversalHandler>();
  for (const handler of handlers) {
    if (handler.service.typeName === InvitesService.typeName && handler.protocolNames.includes("connect")) {
      byMethod.set(handler.method.name.toLowerCase(), handler);
    }
  }

  /**
   * Answers a request for the method an M3O path names (see m3oMethodOf),
   * sending `requestId` as x-request-id with the head.
   */
  return async function handleM3o(req: NodeRequest, res: NodeResponse, name: string, contextValues: ContextValues, requestId: string): Promise<void> {
    const head = { "content-type": "application/json", "x-request-id": requestId };
    const handler = byMethod.get(name.toLowerCase());
    if (!handler) return sendError(res, head, 404, "NOT_FOUND", `unknown method ${name}`);
    if (req.method !== "POST") return sendError(res, { ...head, allow: "POST" }, 405, "METHOD_NOT_ALLOWED", "use POST");
    let text: string;
    try {
      const body = (await readBody(req, maxBodyBytes, req.headers["content-length"])).toString("utf8");
      text = body.trim() === "" ? "{}" : body;
    } catch (err) {
      if (err instanceof BodyTooLargeError) return sendError(res, head, 413, "REQUEST_TOO_LARGE", err.message);
      return sendAnswer(res, head, invalidJson);
    }
    const header = forwarded(req.headers);
    // M3O invites were always for an email: open links are not offered here.
    const values = contextValues.set(m3oCallKey, true);
    const leanCall = lean?.m3oCall(handler.method);
    sendAnswer(res, head, await (leanCall ? viaLean(leanCall, text, header, values, abortWhenClientLeaves(res)) : viaConnect(handler, text, header, values, req, res)));
  };
}

/**
 * The M3O calls the lean path serves, for a reader of HTTP/1.1 of its own:
 * `serve` runs the call named by a path `serves` accepts, with its whole
 * body, and answers through `respond` as the M3O handler would.
 */
export function createM3oLean(lean: LeanUnary) {
  const calls = new Map<string, M3oLeanCall>();
  for (const method of InvitesService.methods) {
    const call = lean.m3oCall(method);
    if (call) calls.set(method.name.toLowerCase(), call);
  }
  const callAt = (path: string) => calls.get(m3oMethodOf(path)?.toLowerCase() ?? "");
  return {
    /** Whether `serve` serves this path. */
    serves: (path: string) => callAt(path) !== undefined,
    serve(path: string, headers: IncomingHttpHeaders, body: Buffer, record: CallRecord, cancel: LazyAbort, respond: Http1Respond): void {
      const text = body.toString("utf8");
      const values = createContextValues().set(callRecordKey, record).set(m3oCallKey, true);
      viaLean(callAt(path)!, text.trim() === "" ? "{}" : text, forwarded(headers), values, cancel).then((answer) => {
        const { status, body } = answerParts(answer);
        respond(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }, body);
      });
    },
  };
}

export type M3oLean = ReturnType<typeof createM3oLean>;

function forwarded(incoming: IncomingHttpHeaders): Headers {
  const header = new Headers({ "content-type": "application/json" });
  for (const name of forwardedHeaders) {
    const value = incoming[name];
    if (typeof value === "string") header.set(name, value);
  }
  return header;
}

/** The response's headers, written with its status in one writeHead: a header set ahead sends Node's writeHead down its slow path. */
type Head = Record<string, string>;

function sendAnswer(res: NodeResponse, head: Head, answer: M3oAnswer): void {
  const { status, body } = answerParts(answer);
  res.writeHead(status, head);
  res.end(body);
}

function answerParts(answer: M3oAnswer): { status: number; body: string | Uint8Array } {
  return answer.ok ? { status: 200, body: answer.body } : { status: answer.status, body: errorBody(answer.status, answer.id, answer.detail) };
}

async function viaLean(call: M3oLeanCall, text: string, header: Headers, values: ContextValues, cancel: LazyAbort): Promise<M3oAnswer> {
  try {
    return { ok: true, body: await call(text, header, values, cancel) };
  } catch (err) {
    const error = ConnectError.from(err);
    // Text that is not JSON at all fails as the message's decoding; M3O calls it INVALID_JSON.
    if (error.code === Code.InvalidArgument && !isJson(text)) return invalidJson;
    return { ok: false, status: codeToHttpStatus(error.code), id: errorReason(error) ?? codeToString(error.code).toUpperCase(), detail: error.rawMessage };
  }
}

async function viaConnect(handler: UniversalHandler, text: string, header: Headers, values: ContextValues, req: NodeRequest, res: NodeResponse): Promise<M3oAnswer> {
  let body: JsonValue;
  try {
    body = JSON.parse(text) as JsonValue;
  } catch {
    return invalidJson;
  }
  const uRes = await handler({
    httpVersion: req.httpVersion,
    url: `http://localhost${handler.requestPath}`,
    method: "POST",
    header,
    body,
    signal: abortWhenClientLeaves(res).signal,
    contextValues: values,
  });
  const out = await collect(uRes.body);
  if (uRes.status === 200) return { ok: true, body: out };
  const error = parseConnectError(out);
  return { ok: false, status: uRes.status, id: error.reason ?? error.code.toUpperCase(), detail: error.message };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The method an M3O path names, or undefined for any other path. */
export function m3oMethodOf(path: string): string | undefined {
  return m3oPath.exec(path)?.[1];
}

function sendError(res: NodeResponse, head: Head, status: number, id: string, detail: string): void {
  res.writeHead(status, head);
  res.end(errorBody(status, id, detail));
}

function errorBody(status: number, id: string, detail: string): string {
  return JSON.stringify({ id, code: status, detail, status: STATUS_CODES[status] ?? "Error" });
}

interface ConnectErrorJson {
  code: string;
  message: string;
  reason?: string;
}

function parseConnectError(bytes: Uint8Array): ConnectErrorJson {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
      code?: string;
      message?: string;
      details?: { type?: string; value?: string }[];
    };
    const info = json.details?.find((d) => d.type === ErrorInfoSchema.typeName);
    const reason = info?.value ? fromBinary(ErrorInfoSchema, Buffer.from(info.value, "base64")).reason : undefined;
    return { code: json.code ?? "unknown", message: json.message ?? "", reason };
  } catch {
    return { code: "internal", message: "internal error" };
  }
}

async function collect(body: AsyncIterable<Uint8Array> | undefined): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  if (body) for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
