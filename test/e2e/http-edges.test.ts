import * as http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { postJson } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
beforeAll(async () => (server = await startTestServer({ corsOrigins: ["https://app.example.com"] })));
afterAll(() => server.close());

describe("bad input on the Connect path", () => {
  const url = () => `${server.url}/invites.v1.InvitesService/Create`;

  test("malformed JSON and wrong types are InvalidArgument, and nothing is stored", async () => {
    await expect(postJson(url(), "{nope")).resolves.toMatchObject({ status: 400, json: { code: "invalid_argument" } });
    const wrong = await postJson(url(), { group_id: ["g"], email: "a@example.com" });
    expect(wrong).toMatchObject({ status: 400, json: { code: "invalid_argument" } });
    expect(wrong.json.message).toMatch(/group_id/);
    const list = await postJson(`${server.url}/invites.v1.InvitesService/List`, {});
    expect(list.json).toEqual({});
  });

  test("an oversized body is ResourceExhausted", async () => {
    const client = createClient(InvitesService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const err = await client.create({ groupId: "g".repeat(70 * 1024), email: "a@example.com" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  test("a Connect call's compression is its Content-Encoding, whatever a grpc-encoding field says", async () => {
    const res = await fetch(`${server.url}/invites.v1.InvitesService/List`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip", "grpc-encoding": "identity" },
      body: gzipSync("{}"),
    });
    expect(res.status).toBe(200);
    await expect(res.json()).resolves.toEqual({});
  });

  test("a deadline beyond 24 hours is InvalidArgument, on either path (a gzip body takes connect-node's)", async () => {
    const day = 24 * 60 * 60 * 1000;
    const plain = await postJson(`${server.url}/invites.v1.InvitesService/List`, {}, { "connect-timeout-ms": String(day + 1) });
    expect(plain).toMatchObject({ status: 400, json: { code: "invalid_argument" } });
    const gzipped = await fetch(`${server.url}/invites.v1.InvitesService/List`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip", "connect-timeout-ms": String(day + 1) },
      body: gzipSync("{}"),
    });
    expect(gzipped.status).toBe(400);
    await expect(gzipped.json()).resolves.toMatchObject({ code: "invalid_argument" });
    await expect(postJson(`${server.url}/invites.v1.InvitesService/List`, {}, { "connect-timeout-ms": String(day) })).resolves.toMatchObject({ status: 200 });
  });

  test("a JSON call sent with a charset is answered in plain application/json, on either path", async () => {
    const res = await fetch(`${server.url}/invites.v1.InvitesService/List`, { method: "POST", headers: { "content-type": "application/json; charset=utf-8" }, body: "{}" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
  });

  test("a wrong content type is refused with 415", async () => {
    const res = await fetch(url(), { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(res.status).toBe(415);
  });

  test("gRPC-Web's text form is refused with 415 over HTTP/1.1 and HTTP/2, as connect-node refuses it", async () => {
    const read = `${server.url}/invites.v1.InvitesService/Read`;
    // A ReadRequest by id, framed as gRPC-Web frames it, in base64 as the text form carries it.
    const message = Buffer.from([0x0a, 0x01, 0x78]);
    const text = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]).toString("base64");
    const viaHttp1 = await fetch(read, { method: "POST", headers: { "content-type": "application/grpc-web-text", "x-grpc-web": "1" }, body: text });
    expect(viaHttp1.status).toBe(415);
    const session = http2.connect(server.url);
    try {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": "/invites.v1.InvitesService/Read", "content-type": "application/grpc-web-text+proto" });
        stream.on("response", (headers) => resolve(headers[":status"]));
        stream.on("error", reject);
        stream.resume();
        stream.end(text);
      });
      expect(status).toBe(415);
    } finally {
      session.close();
    }
  });
});

describe("Connect GET, for the methods without side effects", () => {
  const read = () => `${server.url}/invites.v1.InvitesService/Read`;
  const json = (message: unknown) => `encoding=json&message=${encodeURIComponent(JSON.stringify(message))}`;
  let code: string;
  beforeAll(async () => {
    code = (await postJson(`${server.url}/invites.v1.InvitesService/Create`, { group_id: "get", email: "get@example.com" })).json.invite.code;
  });

  test("reads by code in JSON and in base64 proto, unknown parameters ignored, over HTTP/1.1 and HTTP/2", async () => {
    const proto = Buffer.concat([Buffer.from([0x12, code.length]), Buffer.from(code)]).toString("base64url");
    for (const query of [json({ code }), `connect=v1&${json({ code })}&_=12345`, `encoding=proto&base64=1&message=${proto}`]) {
      const res = await fetch(`${read()}?${query}`, { headers: { origin: "https://app.example.com" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(query.includes("proto") ? "application/proto" : "application/json");
      expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
      expect(Buffer.from(await res.arrayBuffer()).toString("latin1")).toContain(code);
    }
    const h2 = await h2Get(`/invites.v1.InvitesService/Read?${json({ code })}`);
    expect(h2).toMatchObject({ status: 200, contentType: "application/json" });
    expect(JSON.parse(h2.body).invite.code).toBe(code);
  });

  test.each([
    ["no message", "encoding=json", 400, { code: "invalid_argument", message: "cannot decode message invites.v1.ReadRequest from JSON: Unexpected end of JSON input" }],
    ["a message that is not base64", "encoding=proto&base64=1&message=%21%21", 400, { code: "invalid_argument", message: expect.stringMatching(/^message: .*base64/) }],
    ["a compressed message that is not base64", "encoding=proto&base64=1&message=%21%21&compression=gzip", 400, { code: "invalid_argument", message: expect.stringMatching(/^message: /) }],
    ["an unknown compression", `${json({ code: "x" })}&compression=zstd`, 501, { code: "unimplemented" }],
  ])("answers %s as connect-node does, or better, on either path", async (_, query, status, body) => {
    const res = await fetch(`${read()}?${query}`);
    expect(res.status).toBe(status);
    await expect(res.json()).resolves.toEqual(status === 501 ? expect.objectContaining(body) : body);
  });

  test("refuses an unknown encoding with 415, and a method with side effects with 405", async () => {
    expect((await fetch(`${read()}?encoding=xml&message=x`)).status).toBe(415);
    expect((await fetch(`${server.url}/invites.v1.InvitesService/Create?${json({ group_id: "g", email: "a@example.com" })}`)).status).toBe(405);
  });

  test("honours connect-timeout-ms, and refuses a malformed one before it reads the message, as connect-node does", async () => {
    const malformed = await fetch(`${read()}?encoding=proto&base64=1&message=%21%21`, { headers: { "connect-timeout-ms": "soon" } });
    expect(malformed.status).toBe(400);
    await expect(malformed.json()).resolves.toEqual({ code: "invalid_argument", message: "protocol error: invalid connect timeout value: soon" });
    expect((await fetch(`${read()}?${json({ code })}`, { headers: { "connect-timeout-ms": "5000" } })).status).toBe(200);
  });

  test("reads JSON that starts with a byte-order mark, as connect-node's TextDecoder does, in a GET and a POST", async () => {
    const text = `\ufeff${JSON.stringify({ code })}`;
    const get = await fetch(`${read()}?encoding=json&message=${encodeURIComponent(text)}`);
    const post = await fetch(read(), { method: "POST", headers: { "content-type": "application/json" }, body: text });
    for (const res of [get, post]) {
      expect(res.status).toBe(200);
      await expect(res.json()).resolves.toMatchObject({ invite: { code } });
    }
  });

  test("a POST with an empty JSON body is InvalidArgument, as a GET with no message", async () => {
    const res = await fetch(read(), { method: "POST", headers: { "content-type": "application/json" }, body: "" });
    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toEqual({ code: "invalid_argument", message: "cannot decode message invites.v1.ReadRequest from JSON: Unexpected end of JSON input" });
  });
});

describe("a binary message that cannot be decoded", () => {
  // ReadRequest's field 1 (a string) with its length missing.
  const broken = Buffer.from([0x0a, 0xff]);
  const frame = (flags: number, message: Buffer) => Buffer.concat([Buffer.from([flags, 0, 0, 0, message.length]), message]);
  const read = () => `${server.url}/invites.v1.InvitesService/Read`;
  const expected = "cannot decode message invites.v1.ReadRequest: premature EOF";

  test.each([
    ["Connect proto", {}, broken],
    ["Connect proto, gzip (connect-node's path)", { "content-encoding": "gzip" }, gzipSync(broken)],
  ])("is InvalidArgument over %s, on either path", async (_, fields, body) => {
    const res = await fetch(read(), { method: "POST", headers: { "content-type": "application/proto", ...fields }, body });
    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toEqual({ code: "invalid_argument", message: expected });
  });

  test.each([
    ["gRPC", frame(0, broken), {}],
    ["gRPC, gzip (connect-node's path)", frame(1, gzipSync(broken)), { "grpc-encoding": "gzip" }],
  ])("is InvalidArgument over %s, on either path", async (_, body, fields) => {
    expect(await grpcRead(body, fields)).toMatchObject({ "grpc-status": "3", "grpc-message": expected });
  });

  test("is InvalidArgument over gRPC-Web, on either path", async () => {
    const res = await fetch(read(), { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: frame(0, broken) });
    const body = Buffer.from(await res.arrayBuffer());
    expect(body[0]).toBe(0x80);
    expect(body.subarray(5).toString("latin1")).toBe(`grpc-message: ${encodeURIComponent(expected)}\r\ngrpc-status: 3\r\n`);
  });
});

describe("a badly framed gRPC or gRPC-Web body", () => {
  const message = Buffer.from([0x12, 1, 0x78]);
  const frame = (flags: number, data: Buffer) => Buffer.concat([Buffer.from([flags, 0, 0, 0, data.length]), data]);
  const cases: [string, Buffer, string, string][] = [
    ["no message", Buffer.alloc(0), "12", "protocol error: missing input message for unary method"],
    ["two messages", Buffer.concat([frame(0, message), frame(0, message)]), "12", "protocol error: received extra input message for unary method"],
    ["a frame cut short", frame(0, message).subarray(0, 6), "3", "protocol error: incomplete envelope"],
    ["a frame flagged compressed in a call that named no compression", frame(1, message), "3", "received compressed envelope, but do not know how to decompress"],
    ["a frame longer than the service accepts", Buffer.from([0, 0xff, 0xff, 0xff, 0xff]), "8", "message size 4294967295 is larger than configured readMaxBytes 65536"],
  ];

  test.each(cases)("is answered as connect-node answers it over gRPC, on either path: %s", async (_, body, status, message) => {
    expect(await grpcRead(body)).toMatchObject({ "grpc-status": status, "grpc-message": message });
  });

  test.each(cases)("is answered as connect-node answers it over gRPC-Web, on either path: %s", async (_, body, status, message) => {
    const res = await fetch(`${server.url}/invites.v1.InvitesService/Read`, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body });
    const trailer = Buffer.from(await res.arrayBuffer()).subarray(5).toString("latin1");
    expect(trailer).toBe(`grpc-message: ${encodeURIComponent(message)}\r\ngrpc-status: ${status}\r\n`);
  });
});

/** A gRPC Read with `body` as its framed message, over a session of its own: the answer's headers and trailers together. */
async function grpcRead(body: Buffer, fields: http2.OutgoingHttpHeaders = {}): Promise<http2.IncomingHttpHeaders> {
  const session = http2.connect(server.url);
  try {
    return await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": "/invites.v1.InvitesService/Read", "content-type": "application/grpc", te: "trailers", ...fields });
      let seen: http2.IncomingHttpHeaders = {};
      stream.on("response", (h) => (seen = { ...seen, ...h })).on("trailers", (t) => (seen = { ...seen, ...t }));
      stream.on("error", reject).on("close", () => resolve(seen)).resume();
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

/** One GET over h2c, as a browser's fetch would send it over HTTP/2. */
async function h2Get(path: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  const session = http2.connect(server.url);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ":method": "GET", ":path": path });
      let body = "";
      let head: http2.IncomingHttpHeaders = {};
      stream.setEncoding("utf8").on("response", (h) => (head = h)).on("data", (chunk: string) => (body += chunk)).on("error", reject);
      stream.on("end", () => resolve({ status: Number(head[":status"]), contentType: head["content-type"], body }));
    });
  } finally {
    session.close();
  }
}

describe("CORS", () => {
  test("answers a preflight from an allowed origin", async () => {
    const res = await fetch(`${server.url}/invites.v1.InvitesService/Create`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization,connect-protocol-version",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
    expect(res.headers.get("access-control-allow-methods")).toMatch(/POST/);
  });

  test("lets an allowed origin read responses and refuses other origins", async () => {
    const allowed = await postJson(`${server.url}/invites.v1.InvitesService/List`, {}, { origin: "https://app.example.com" });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-expose-headers")).toMatch(/Grpc-Status/i);
    const other = await postJson(`${server.url}/invites.v1.InvitesService/List`, {}, { origin: "https://evil.example.com" });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${server.url}/invites.v1.InvitesService/List`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
  });

  test("over HTTP/2 too, an allowed origin can read answers and errors, and another cannot", async () => {
    const session = http2.connect(server.url);
    const call = (path: string, origin: string) =>
      new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/json", origin });
        stream.on("response", resolve).on("error", reject).resume();
        stream.end("{}");
      });
    try {
      const answer = await call("/invites.v1.InvitesService/List", "https://app.example.com");
      expect(answer).toMatchObject({ ":status": 200, "access-control-allow-origin": "https://app.example.com", vary: "Origin" });
      expect(answer["access-control-expose-headers"]).toMatch(/X-Request-Id/);
      const error = await call("/invites.v1.InvitesService/Read", "https://app.example.com");
      expect(error).toMatchObject({ ":status": 400, "access-control-allow-origin": "https://app.example.com" });
      const other = await call("/invites.v1.InvitesService/List", "https://evil.example.com");
      expect(other[":status"]).toBe(200);
      expect(other["access-control-allow-origin"]).toBeUndefined();
    } finally {
      session.close();
    }
  });
});
