import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { InvitesService } from "../../gen/invites/v1/invites_pb.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { serverSettings } from "../support/http.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

// Not the default, so the setting is seen to reach the server; small, so the clients below hold back most of their calls.
const maxStreams = 150;
let server: TestServer;
beforeAll(async () => (server = await startTestServer({ http2MaxStreams: maxStreams })));
afterAll(() => server.close());

test("the server tells each HTTP/2 client how many calls it may have in flight", async () => {
  await expect(serverSettings(server.url)).resolves.toMatchObject({ maxConcurrentStreams: maxStreams });
});

test("clients queue calls past the limit on one connection, and every call is answered", async () => {
  const connect = createClient(InvitesService, createConnectTransport({ baseUrl: server.url, httpVersion: "2" }));
  const { invite } = await connect.create({ groupId: "streams", email: "streams@example.com" });
  const code = invite!.code;
  const grpcJs = createGrpcJsClient(new URL(server.url).host);
  const grpc = createClient(InvitesService, createGrpcTransport({ baseUrl: server.url }));
  try {
    const calls = 1000;
    const answers = await Promise.all([
      ...Array.from({ length: calls }, () => grpcJs.read({ code })),
      ...Array.from({ length: calls }, () => grpc.read({ code })),
      ...Array.from({ length: calls }, () => connect.read({ code })),
    ]);
    expect(answers.map((answer) => answer.invite?.id)).toEqual(Array(3 * calls).fill(invite!.id));
  } finally {
    grpcJs.close();
  }
});
