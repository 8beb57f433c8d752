import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { InvitesService, InviteSchema, type ReadRequest } from "../../gen/invites/v1/invites_pb.js";
import { createLeanUnary } from "../../src/http/lean-unary.js";
import type { NodeResponse } from "../../src/http/node-types.js";
import { createOnePortServer, type OnePortServer } from "../../src/http/one-port-server.js";
import { createLogger } from "../../src/logger.js";
import { createCallRecordInterceptor } from "../../src/observability/call-record.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { createRequestObserver } from "../../src/observability/request-observer.js";

// The lean path's HTTP/2 streams on their own, in front of a Node handler
// that answers "node", so each test can tell which of the two served a call.

const read = "/invites.v1.InvitesService/Read";
const lines: string[] = [];
let methods: string[];
let server: OnePortServer;
let session: http2.ClientHttp2Session;

beforeEach(async () => {
  lines.length = 0;
  methods = [];
  const observer = createRequestObserver(createLogger("info", { write: (line) => lines.push(line) }), createMetrics());
  const implementation = {
    read({ code }: ReadRequest, ctx: HandlerContext) {
      methods.push(ctx.requestMethod);
      return { invite: create(InviteSchema, { code }) };
    },
  };
  // The call-record interceptor, as the service has it: gRPC's outcome is in its trailers, which the log line cannot see.
  const interceptors = [createCallRecordInterceptor()];
  const lean = createLeanUnary({ service: InvitesService, implementation, interceptors, jsonOptions: {}, maxBodyBytes: 1024, observe: observer });
  const node = (_: unknown, res: NodeResponse) => res.writeHead(200, { "content-length": "4" }).end("node");
  server = createOnePortServer(node, { streamHandler: (stream, headers) => lean.http2Stream(stream, headers), http2MaxStreams: 100, keepAliveMs: 5000 });
  const address: AddressInfo = await server.listen(0, "127.0.0.1");
  session = http2.connect(`http://127.0.0.1:${address.port}`);
});
afterEach(async () => {
  session.close();
  await server.close(0);
});

function call(headers: http2.OutgoingHttpHeaders, body?: string | Buffer): Promise<{ status: number; contentType: string | undefined; contentLength: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let text = "";
    let head: http2.IncomingHttpHeaders = {};
    stream.setEncoding("latin1").on("response", (h) => (head = h)).on("data", (chunk: string) => (text += chunk)).on("error", reject);
    stream.on("end", () => resolve({ status: Number(head[":status"]), contentType: head["content-type"], contentLength: head["content-length"], body: text }));
    if (body !== undefined) stream.end(body);
  });
}

const jsonQuery = (code: string) => `encoding=json&message=${encodeURIComponent(JSON.stringify({ code }))}`;

test("serves a Connect GET itself, in JSON or base64 proto, as a GET, and logs no query", async () => {
  const json = await call({ ":method": "GET", ":path": `${read}?${jsonQuery("secret-json")}` });
  // With its Content-Length, as connect-node answers.
  expect(json).toMatchObject({ status: 200, contentType: "application/json", contentLength: String(Buffer.byteLength(json.body)) });
  expect(JSON.parse(json.body).invite.code).toBe("secret-json");
  const proto = Buffer.concat([Buffer.from([0x12, 12]), Buffer.from("secret-proto")]).toString("base64url");
  const binary = await call({ ":method": "GET", ":path": `${read}?encoding=proto&base64=1&message=${proto}` });
  expect(binary).toMatchObject({ status: 200, contentType: "application/proto" });
  expect(binary.body).toContain("secret-proto");
  expect(methods).toEqual(["GET", "GET"]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  // The call-record interceptor names the procedure without the path's leading slash.
  expect(lines.map((line) => JSON.parse(line))).toEqual(Array(2).fill(expect.objectContaining({ procedure: read.slice(1), protocol: "connect", code: "ok" })));
  expect(lines.join("")).not.toContain("secret");
});

test("answers a GET whose base64 message is malformed with InvalidArgument itself, and logs no query", async () => {
  const answer = await call({ ":method": "GET", ":path": `${read}?encoding=proto&base64=1&message=%21%21&note=secret` });
  expect(answer).toMatchObject({ status: 400, contentType: "application/json", contentLength: String(answer.body.length) });
  expect(JSON.parse(answer.body)).toEqual({ code: "invalid_argument", message: expect.stringMatching(/^message: .*base64/) });
  expect(methods).toEqual([]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  // Refused before the interceptors, so the log line's procedure comes from the path.
  expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ procedure: read, code: "invalid_argument" })]);
  expect(lines.join("")).not.toContain("secret");
});

test.each([
  ["a GET with a body", { ":method": "GET", ":path": `${read}?${jsonQuery("x")}` }, "{}"],
  ["a GET of a compressed message", { ":method": "GET", ":path": `${read}?${jsonQuery("x")}&compression=gzip` }, undefined],
  ["a GET of another encoding", { ":method": "GET", ":path": `${read}?encoding=xml&message=x` }, undefined],
  ["a GET with no query", { ":method": "GET", ":path": read }, undefined],
])("leaves %s to Node", async (_, headers, body) => {
  await expect(call(headers, body)).resolves.toMatchObject({ body: "node" });
  expect(methods).toEqual([]);
});

test("serves a gRPC-Web call itself, its status in the body's trailer frame", async () => {
  const message = Buffer.concat([Buffer.from([0x12, 3]), Buffer.from("web")]);
  const answer = await call({ ":method": "POST", ":path": read, "content-type": "application/grpc-web" }, Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]));
  expect(answer).toMatchObject({ status: 200, contentType: "application/grpc-web+proto" });
  const body = Buffer.from(answer.body, "latin1");
  const length = body.readUInt32BE(1);
  expect(body.subarray(5, 5 + length).toString("latin1")).toContain("web");
  expect([body[5 + length], body.subarray(10 + length).toString("latin1")]).toEqual([0x80, "grpc-status: 0\r\n"]);
  expect(methods).toEqual(["POST"]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(JSON.parse(lines[0])).toMatchObject({ protocol: "grpc-web", code: "ok" });
});

test("serves a POST as a POST", async () => {
  const answer = await call({ ":method": "POST", ":path": read, "content-type": "application/json" }, JSON.stringify({ code: "posted" }));
  expect(JSON.parse(answer.body).invite.code).toBe("posted");
  expect(methods).toEqual(["POST"]);
});
