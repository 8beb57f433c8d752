import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { connectGetMessage, readConnectGetQuery } from "../../src/http/connect-get.js";
import { withTypedBase64Error } from "../../src/http/parse-error.js";

// A Connect GET's query read as connect-node reads it (URLSearchParams, first
// value wins, unknown parameters ignored), and what the lean path leaves to it.

test.each([
  ["encoding=json&message=%7B%7D", "json", "{}"],
  ["connect=v1&encoding=proto&message=abc", "proto", "abc"],
  ["encoding=json&encoding=proto&message=a+b%20c", "json", "a b c"],
  ["_=1&message=x&encoding=json&message=y", "json", "x"],
  ["encoding=json", "json", ""],
])("reads %s", (query, wire, message) => {
  const read = readConnectGetQuery(query);
  expect(read?.wire).toBe(wire);
  expect(connectGetMessage(read!.params).toString("utf8")).toBe(message);
});

test.each([
  ["no encoding", "message=x"],
  ["another encoding", "encoding=xml&message=x"],
  ["a compressed message", "encoding=json&message=x&compression=gzip"],
  ["even compression=identity", "encoding=json&message=x&compression=identity"],
  ["a '#', where URL parsing ends the query", "encoding=json&message=a#b"],
  ["a space", "encoding=json&message=a b"],
  ["a tab, which URL parsing drops", "encoding=json&message=a\tb"],
  ["a byte beyond ASCII", "encoding=json&message=caf\u00e9"],
])("leaves a query with %s to connect-node", (_, query) => {
  expect(readConnectGetQuery(query)).toBeUndefined();
});

test("decodes base64 in either alphabet, padded or not, as connect-node does", () => {
  const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x00, 0x12]);
  // The standard alphabet must be percent-encoded in a query: a bare '+' reads as a space.
  for (const text of [bytes.toString("base64url"), `${bytes.toString("base64url")}=`, encodeURIComponent(bytes.toString("base64"))]) {
    expect(connectGetMessage(new URLSearchParams(`base64=1&message=${text}`))).toEqual(bytes);
  }
});

test("a base64 message that is not base64 is InvalidArgument naming the parameter", () => {
  const read = () => connectGetMessage(new URLSearchParams("base64=1&message=%21%21"));
  expect(read).toThrow(ConnectError);
  expect(read).toThrow(expect.objectContaining({ code: Code.InvalidArgument, rawMessage: expect.stringMatching(/^message: .*base64/) }));
});

describe("connect-node's answer to a GET whose base64 message is malformed", () => {
  const internal: UniversalServerResponse = { status: 500, header: new Headers({ "content-type": "application/json" }), body: createAsyncIterable([]) };
  const body = async (response: UniversalServerResponse) => {
    let text = "";
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString("utf8");
    return JSON.parse(text);
  };

  test("becomes InvalidArgument", async () => {
    const typed = withTypedBase64Error("GET", "/p?encoding=proto&base64=1&message=%21%21", internal);
    expect(typed.status).toBe(400);
    await expect(body(typed)).resolves.toEqual({ code: "invalid_argument", message: expect.stringMatching(/^message: /) });
  });

  test.each([
    ["a GET whose message is base64", "GET", "/p?encoding=proto&base64=1&message=CgF4", internal],
    ["a GET whose message is not meant as base64", "GET", "/p?encoding=proto&message=%21%21", internal],
    ["a POST", "POST", "/p?encoding=proto&base64=1&message=%21%21", internal],
    ["an answer other than 500", "GET", "/p?encoding=proto&base64=1&message=%21%21", { ...internal, status: 415 }],
  ])("is left as it is for %s", (_, method, target, response) => {
    expect(withTypedBase64Error(method, target, response)).toBe(response);
  });
});
