import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { fromBinary } from "@bufbuild/protobuf";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const run = promisify(execFile);
const buf = join(__dirname, "../../node_modules/.bin/buf");
const apiKey = "buf-curl-key-0123456789abcdef";

let server: TestServer;
beforeAll(async () => (server = await startTestServer({ apiKeysText: `${apiKey}:*` })));
afterAll(() => server.close());

/** Runs `buf curl` with no --schema: it must learn the API through reflection. */
async function bufCurl(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(buf, ["curl", ...args], { timeout: 20_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const auth = ["-H", `authorization: Bearer ${apiKey}`];
const protocols: [string, string[]][] = [
  ["grpc", ["--protocol", "grpc", "--http2-prior-knowledge"]],
  ["grpcweb", ["--protocol", "grpcweb"]],
  ["connect", ["--protocol", "connect"]],
];

test("lists every service's methods through reflection, v1 and v1alpha", async () => {
  for (const reflect of ["grpc-v1", "grpc-v1alpha"]) {
    const { stdout, code } = await bufCurl(["--http2-prior-knowledge", "--reflect-protocol", reflect, "--list-methods", server.url]);
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toEqual(
      expect.arrayContaining([
        "invites.v1.InvitesService/Create",
        "invites.v1.InvitesService/Read",
        "invites.v1.InvitesService/List",
        "invites.v1.InvitesService/Delete",
        "grpc.health.v1.Health/Check",
      ]),
    );
  }
});

test.each(protocols)("create and read over %s", async (name, flags) => {
  const email = `buf-${name}@example.com`;
  const created = await bufCurl([...flags, ...auth, "-d", JSON.stringify({ group_id: "buf", email }), `${server.url}/invites.v1.InvitesService/Create`]);
  expect(created.stderr).toBe("");
  const invite = JSON.parse(created.stdout).invite;
  expect(invite).toMatchObject({ groupId: "buf", email });
  const read = await bufCurl([...flags, ...auth, "-d", JSON.stringify({ code: invite.code.toLowerCase() }), `${server.url}/invites.v1.InvitesService/Read`]);
  expect(JSON.parse(read.stdout).invite.id).toBe(invite.id);
});

test("reports errors with their code and details", async () => {
  const { stderr, code } = await bufCurl([...protocols[0][1], ...auth, "-d", "{}", `${server.url}/invites.v1.InvitesService/Read`]);
  expect(code).not.toBe(0);
  const error = JSON.parse(stderr);
  expect(error).toMatchObject({ code: "invalid_argument", message: "id or code is required" });
  expect(error.details[0].type).toBe("google.rpc.ErrorInfo");
  expect(fromBinary(ErrorInfoSchema, Buffer.from(error.details[0].value, "base64"))).toMatchObject({ reason: "ID_OR_CODE_REQUIRED", domain: "invites" });
});

test("health answers over gRPC", async () => {
  const { stdout } = await bufCurl([...protocols[0][1], "-d", '{"service":"invites.v1.InvitesService"}', `${server.url}/grpc.health.v1.Health/Check`]);
  expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
});
