import { createRegistry, fromJsonString, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { DurationSchema, FileDescriptorProtoSchema, Int32ValueSchema, StructSchema } from "@bufbuild/protobuf/wkt";
import { jsonDecoder } from "../../src/codec/json-decoder.js";
import { AcceptRequestSchema, CreateRequestSchema, ListRequestSchema, ReadRequestSchema, file_invites_v1_invites } from "../../gen/invites/v1/invites_pb.js";
import { seedFrom, seededRandom, type SeededRandom } from "../support/seeded-random.js";

// Watched, so a test can tell the decoder's own plan from a fallback to protobuf-es (which every
// comparison below would pass as well).
jest.mock("@bufbuild/protobuf", () => {
  const actual = jest.requireActual("@bufbuild/protobuf");
  return { ...actual, fromJsonString: jest.fn(actual.fromJsonString) };
});

const optionSets = [{}, { ignoreUnknownFields: true }];

/** What protobuf-es makes of the text: the message's bytes and shape, or its error. */
function outcome(decode: (text: string) => unknown, schema: DescMessage, text: string) {
  try {
    const message = decode(text);
    return { message, bytes: Buffer.from(toBinary(schema, message as never)).toString("hex") };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function expectSameAsProtobufEs(schema: DescMessage, text: string, options: object) {
  const expected = outcome((t) => fromJsonString(schema, t, options), schema, text);
  expect({ text, ...outcome(jsonDecoder(schema, options), schema, text) }).toEqual({ text, ...expected });
}

// Values of every kind a key may meet, valid for some fields and not for others.
const values = [
  '""', '"g-1"', '"Zoë 日本 👋🏽"', '"\\ud800"', '"a\\"b:c"', '"12"', '" 7"', "0", "-0", "1", "100", "-5", "2147483647", "2147483648",
  "4294967296", "1.5", "1e3", "true", "false", "null", "[]", '["x"]', "{}", '{"a":1}', '"INVITE_STATE_PENDING"', '"INVITE_STATE_NOPE"',
];

function keysOf(schema: DescMessage): string[] {
  return [...schema.fields.flatMap((f) => [f.name, f.jsonName]), "unknown_key", "__proto__", "[ext.field]"];
}

function randomText(schema: DescMessage, r: SeededRandom): string {
  const keys = keysOf(schema);
  const count = Math.floor(r.next() * 5);
  const members = Array.from({ length: count }, () => `${JSON.stringify(r.pick(keys))}${r.pick([":", " : "])}${r.pick(values)}`);
  return `${r.pick(["", " ", "\n"])}{${members.join(r.pick([",", ", "]))}}`;
}

const requests = file_invites_v1_invites.messages.filter((m) => m.name.endsWith("Request"));

describe.each(optionSets)("options %j", (options) => {
  test.each(requests.map((schema) => [schema.name, schema] as const))("%s: 1,000 random texts decode as protobuf-es decodes them", (_, schema) => {
    const r = seededRandom(seedFrom(schema.name));
    for (let i = 0; i < 1000; i++) expectSameAsProtobufEs(schema, randomText(schema, r), options);
  });

  test.each([
    ["a flat request", ReadRequestSchema, '{"code":"ABCD-EFGH"}'],
    ["JSON and proto names", ListRequestSchema, '{"group_id":"g","pageSize":10,"state":"INVITE_STATE_ACCEPTED"}'],
    ["an optional field set to zero (explicit presence)", CreateRequestSchema, '{"group_id":"g","max_uses":0}'],
    ["a duplicate key", ReadRequestSchema, '{"code":"a","code":"b"}'],
    ["a duplicate key by escape", ReadRequestSchema, '{"code":"a","\\u0063ode":"b"}'],
    ["a field by both names", CreateRequestSchema, '{"group_id":"a","groupId":"b"}'],
    ["a colon and an escaped quote in a value", ReadRequestSchema, '{"code":"a:\\"b\\":c"}'],
    ["a oneof member", CreateRequestSchema, '{"group_id":"g","never_expires":true}'],
    ["a map", CreateRequestSchema, '{"group_id":"g","metadata":{"k":"v"}}'],
    ["a message field", CreateRequestSchema, '{"group_id":"g","ttl":"60s"}'],
    ["an unknown key with an object", ReadRequestSchema, '{"code":"a","extra":{"code":"b"}}'],
    ["a top-level array", ReadRequestSchema, '[{"code":"a"}]'],
    ["an empty top-level array", ReadRequestSchema, "[]"],
    ["a top-level string", ReadRequestSchema, '"{}"'],
    ["a top-level null", ReadRequestSchema, "null"],
    ["malformed text", ReadRequestSchema, '{"code":'],
    ["an empty object", ReadRequestSchema, "{}"],
  ] as const)("%s", (_, schema, text) => expectSameAsProtobufEs(schema, text, options));
});

test.each([
  ["a Struct", StructSchema, '{"a":1,"b":[true,null]}'],
  ["a Duration as an object", DurationSchema, '{"nanos":5}'],
  ["a wrapper as an object", Int32ValueSchema, '{"value":5}'],
  ["a proto2 type", FileDescriptorProtoSchema, '{"name":"a.proto"}'],
] as const)("%s (a well-known or non-proto3 type) decodes as protobuf-es decodes it", (_, schema, text) => {
  for (const options of optionSets) expectSameAsProtobufEs(schema, text, options);
});

test("with a registry, decoding is protobuf-es's", () => {
  expectSameAsProtobufEs(ReadRequestSchema, '{"code":"x"}', { registry: createRegistry(file_invites_v1_invites), ignoreUnknownFields: true });
});

describe("the plan, watched", () => {
  const protobufEs = jest.mocked(fromJsonString);
  beforeEach(() => protobufEs.mockClear());

  test.each([
    ["Read by code", ReadRequestSchema, '{"code":"ABCD-EFGH"}'],
    ["Create for an email", CreateRequestSchema, '{"group_id":"g","email":"a@example.com","max_uses":1}'],
    ["List a page of a group", ListRequestSchema, '{"group_id":"g","pageSize":100}'],
    ["Accept", AcceptRequestSchema, '{"code":"ABCD-EFGH","user_id":"u-1"}'],
  ] as const)("%s, a flat request, is decoded by the plan without protobuf-es", (_, schema, text) => {
    const decoded = jsonDecoder(schema, {})(text);
    expect(protobufEs).not.toHaveBeenCalled();
    expect(toBinary(schema, decoded as never)).toEqual(toBinary(schema, fromJsonString(schema, text) as never));
  });

  test("a request with a nested value falls back to protobuf-es", () => {
    jsonDecoder(CreateRequestSchema, {})('{"group_id":"g","metadata":{"k":"v"}}');
    expect(protobufEs).toHaveBeenCalledTimes(1);
  });
});
