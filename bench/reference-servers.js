// Reference servers the benchmark compares the service with. Usage:
//   node bench/reference-servers.js <kind> <port> [sqlite-file]
// kinds: connect-h2, connect-h1 (trivial connect-node handler), grpc-js (plain
// @grpc/grpc-js with the same SQLite lookup), raw-http (node:http JSON floor),
// raw-http2 (node:http2 gRPC framing floor).
"use strict";
const http = require("node:http");
const http2 = require("node:http2");
const { create, toBinary, fromBinary } = require("@bufbuild/protobuf");
const { timestampFromDate } = require("@bufbuild/protobuf/wkt");
const pb = require("../dist/gen/invites/v1/invites_pb.js");
const { grpcFrame } = require("./grpc-frame.js");

const [kind, port, dbFile] = process.argv.slice(2);
const constant = create(pb.InviteSchema, {
  id: "5f0c6f8e-8c1b-4d0b-9a43-7a5f8e9e1c11",
  groupId: "mygroup",
  email: "john@doe.com",
  code: "7KJ4Q2M9XC1T",
  createTime: timestampFromDate(new Date("2026-11-27T15:00:00Z")),
  state: pb.InviteState.PENDING,
  maxUses: 1,
});
const listening = () => console.log(`listening ${port}`);

if (kind === "connect-h2" || kind === "connect-h1") {
  const { connectNodeAdapter } = require("@connectrpc/connect-node");
  const handler = connectNodeAdapter({
    routes: (router) => router.service(pb.InvitesService, { read: async () => ({ invite: constant }) }),
    jsonOptions: { useProtoFieldName: true },
  });
  (kind === "connect-h2" ? http2.createServer(handler) : http.createServer(handler)).listen(Number(port), "127.0.0.1", listening);
} else if (kind === "grpc-js") {
  const grpc = require("@grpc/grpc-js");
  const Database = require("better-sqlite3");
  const db = new Database(dbFile, { readonly: true });
  const byCode = db.prepare("SELECT * FROM invites WHERE namespace = ? AND code = ?");
  const server = new grpc.Server();
  const method = (input, output) => ({
    path: "", requestStream: false, responseStream: false,
    requestDeserialize: (b) => fromBinary(input, b), responseSerialize: (m) => Buffer.from(toBinary(output, m)),
  });
  server.addService(
    { Read: { ...method(pb.ReadRequestSchema, pb.ReadResponseSchema), path: "/invites.v1.InvitesService/Read" } },
    {
      Read(call, callback) {
        const row = byCode.get("default", call.request.code);
        if (!row) return callback({ code: grpc.status.NOT_FOUND, details: "invite not found" });
        callback(null, create(pb.ReadResponseSchema, {
          invite: { id: row.id, groupId: row.group_id, email: row.email, code: row.code, createTime: timestampFromDate(new Date(row.create_time)), state: pb.InviteState.PENDING, maxUses: row.max_uses },
        }));
      },
    },
  );
  server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), () => listening());
} else if (kind === "raw-http") {
  const body = JSON.stringify({ invite: { id: constant.id, group_id: "mygroup", email: "john@doe.com", code: constant.code } });
  http
    .createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        JSON.parse(Buffer.concat(chunks).toString() || "{}");
        res.writeHead(200, { "content-type": "application/json" });
        res.end(body);
      });
    })
    .listen(Number(port), "127.0.0.1", listening);
} else if (kind === "raw-http2") {
  const frame = grpcFrame(toBinary(pb.ReadResponseSchema, create(pb.ReadResponseSchema, { invite: constant })));
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.on("data", () => undefined);
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(frame);
    });
  });
  server.listen(Number(port), "127.0.0.1", listening);
} else {
  console.error(`unknown kind ${kind}`);
  process.exit(2);
}
