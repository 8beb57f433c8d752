import { dirname } from "node:path";
import { ScalarType, create, getOption, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { ApiSchema, DurationSchema, FileDescriptorProtoSchema, TimestampSchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createValidator } from "@bufbuild/protovalidate";
import { field as fieldRulesOption, type StringRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { RE2JS } from "@bufbuild/re2";
import { quickCheck } from "../../src/interceptors/quick-validity.js";
import { AcceptRequestSchema, CreateRequestSchema, ListRequestSchema, ReadRequestSchema, file_invites_v1_invites } from "../../gen/invites/v1/invites_pb.js";
import { seedFrom, seededRandom, type SeededRandom } from "../support/seeded-random.js";

const validator = createValidator();
const requests = file_invites_v1_invites.messages.filter((m) => m.name.endsWith("Request"));

// Values on both sides of every rule in the invites proto: lengths 64, 256, 320 and 512 in
// UTF-16 units and in code points, UUIDs, emails, control characters, bounds, enum numbers.
const strings = [
  "", "a", "TQYEGR3GYYP2", "x".repeat(64), "x".repeat(65), "x".repeat(256), "x".repeat(257), "x".repeat(321), "x".repeat(513),
  "日本".repeat(40), "👋".repeat(40), "👋".repeat(200), "0190f7a2-7c4e-7b3a-9c1d-2f4e6a8b0c1d", "not-a-uuid", "a@example.com",
  "  b@example.com ", "bad email", "bell\u0007", "group-1", "\u0085c@example.com\u3000", "\ufeffd@example.com", "e@-example.com",
];
const int32s = [0, 1, -1, 2, 1000, 1001, 2 ** 31 - 1, -(2 ** 31)];

function value(field: DescField, r: SeededRandom): unknown {
  switch (field.fieldKind) {
    case "scalar":
      if (field.scalar === ScalarType.STRING) return r.pick(strings);
      if (field.scalar === ScalarType.BOOL) return r.next() < 0.5;
      if (field.scalar === ScalarType.INT32) return r.pick(int32s);
      throw new Error(`no values for ${field}`);
    case "enum":
      return r.pick([...field.enum.values.map((v) => v.number), 99]);
    case "message":
      if (field.message.typeName === DurationSchema.typeName) return create(DurationSchema, { seconds: r.pick([-1n, 0n, 60n, 31536000n, 31536001n]) });
      if (field.message.typeName === TimestampSchema.typeName) return timestampFromMs(Date.now() + r.pick([-3600e3, 3600e3, 400 * 86400e3]));
      throw new Error(`no values for ${field}`);
    case "list":
      return r.pick([[], [1], [1, 1], [0], [2, 3], [99]]);
    case "map":
      return r.pick([{}, { a: "b" }, { "": "x" }, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, "v"]))]);
  }
}

function randomMessage(schema: DescMessage, r: SeededRandom): Message {
  const message = create(schema) as unknown as Record<string, unknown>;
  for (const field of schema.fields) {
    if (r.next() < 0.4) continue;
    if (field.oneof) message[field.oneof.localName] = { case: field.localName, value: value(field, r) };
    else message[field.localName] = value(field, r);
  }
  return message as unknown as Message;
}

describe.each(requests.map((schema) => [schema.name, schema] as const))("%s", (_, schema) => {
  test("what the quick check calls valid, protovalidate calls valid (3,000 random messages)", () => {
    const check = quickCheck(schema);
    const r = seededRandom(seedFrom(schema.name));
    const wronglyPassed: unknown[] = [];
    let passed = 0;
    for (let i = 0; i < 3000; i++) {
      const message = randomMessage(schema, r);
      if (!check(message)) continue;
      passed++;
      if (validator.validate(schema, message as never).kind !== "valid") wronglyPassed.push(message);
    }
    expect(wronglyPassed).toEqual([]);
    // Not vacuous where the quick path is open (Create's random emails are rarely valid ones);
    // a type with a UUID rule must never take it, since the quick check cannot test a UUID.
    const atLeast: Record<string, number> = { ReadRequest: 100, ListRequest: 100, AcceptRequest: 100, CreateRequest: 20 };
    if (schema.name in atLeast) expect(passed).toBeGreaterThan(atLeast[schema.name]);
    else expect(passed).toBe(0);
  });
});

// Addresses at the edges of the HTML standard's definition, which protovalidate's isEmail() follows, and of trim().
const emails = [
  "a@example.com", "A.B+c_d@sub.example.co", "!#$%&'*+/=?^_`{|}~-@x", "a@b", "a@b.c.d.e", `a@${"x".repeat(63)}.com`, `a@${"x".repeat(64)}.com`,
  "a@-b.com", "a@b-.com", "a@b--c.com", "a@b..com", "a@.b.com", "a@b.com.", "@b.com", "a@", "a b@c.com", "a@b_c.com", "a@@b.com",
  "ä@b.com", "a@bü.com", "a@b.com\u0000", "(a)@b.com", "a\"b@c.com", "a@[127.0.0.1]", "a.@b.com", ".a@b.com",
];
const spaces = ["", " ", "\t\n", "\u0085", "\u00a0", "\u2028", "\u3000", "\ufeff", "\u200b"];
// Group ids with and without Unicode's control characters (Cc), which the group's pattern refuses.
const groups = ["g", "group-1", "日本", "👋", "a b", "bell\u0007", "tab\t", "del\u007f", "nel\u0085", "zero-width\u200b", "bom\ufeff", "line\u2028", "\u0000"];

test("on Create's email and group, the quick check and protovalidate agree", () => {
  const disagreements: unknown[] = [];
  let quick = 0;
  for (const email of emails) {
    for (const before of spaces) {
      for (const after of spaces) {
        for (const groupId of groups) {
          const message = create(CreateRequestSchema, { groupId, email: before + email + after });
          const certain = quickCheck(CreateRequestSchema)(message);
          if (certain) quick++;
          if (certain !== (validator.validate(CreateRequestSchema, message).kind === "valid")) disagreements.push({ groupId, email: message.email, certain });
        }
      }
    }
  }
  // Where the rest of the message is plainly valid, both read the same rules the same way.
  expect(disagreements).toEqual([]);
  expect(quick).toBeGreaterThan(1000);
});

test("the group's pattern answers as RE2 does for every UTF-16 code unit, lone surrogates included, and for astral characters", () => {
  const group = CreateRequestSchema.fields.find((f) => f.name === "group_id")!;
  const { type } = getOption(group, fieldRulesOption);
  expect(type.case).toBe("string");
  const re2 = RE2JS.compile((type.value as StringRules).pattern);
  const check = quickCheck(CreateRequestSchema);
  const astral = [0x10000, 0x1f44b, 0xe0001, 0xf0000, 0x10fffd].map((c) => String.fromCodePoint(c));
  const units = Array.from({ length: 0x10000 }, (_, c) => String.fromCharCode(c));
  const disagreements = [...units, ...astral, "\ud83d\udc4b\u0007", "\ud800\udc00x"]
    .map((ch) => `g${ch}h`)
    .filter((groupId) => check(create(CreateRequestSchema, { groupId, email: "a@example.com" })) !== re2.test(groupId));
  expect(disagreements).toEqual([]);
  // Both ways: the control characters are refused, the rest accepted.
  expect(check(create(CreateRequestSchema, { groupId: "g\u009f", email: "a@example.com" }))).toBe(false);
  expect(check(create(CreateRequestSchema, { groupId: "g\u00a0\ud800", email: "a@example.com" }))).toBe(true);
});

test.each([
  ["Create for an email", CreateRequestSchema, { groupId: "team-1", email: " Ada@Example.com " }],
  ["Create of an open link", CreateRequestSchema, { groupId: "team-1", openLink: true, maxUses: 0, inviter: "ada", role: "member" }],
  ["Read by code", ReadRequestSchema, { code: "TQYEGR3GYYP2" }],
  ["Accept without email", AcceptRequestSchema, { code: "TQYEGR3GYYP2", userId: "u-1" }],
  ["List, a page of 100", ListRequestSchema, { pageSize: 100 }],
  ["List by group and email", ListRequestSchema, { groupId: "g", email: "a@example.com" }],
] as const)("the common %s needs no protovalidate", (_, schema, init) => {
  const message = create(schema as DescMessage, init);
  expect(validator.validate(schema as DescMessage, message as never).kind).toBe("valid");
  expect(quickCheck(schema as DescMessage)(message)).toBe(true);
});

test.each([
  ["Read with neither id nor code (message CEL)", ReadRequestSchema, {}],
  ["Read by a code over 64 characters", ReadRequestSchema, { code: "x".repeat(65) }],
  ["Accept without user_id (required)", AcceptRequestSchema, { code: "C" }],
  ["List with a negative page size", ListRequestSchema, { pageSize: -1 }],
  ["List with states (left to protovalidate)", ListRequestSchema, { states: [1] }],
  ["Read by id (uuid, left to protovalidate)", ReadRequestSchema, { id: "0190f7a2-7c4e-7b3a-9c1d-2f4e6a8b0c1d" }],
  ["Create with a control character in the group (pattern)", CreateRequestSchema, { groupId: "g\u0007", email: "a@example.com" }],
  ["Create for an address isEmail() refuses (field CEL)", CreateRequestSchema, { groupId: "g", email: "a@b..com" }],
  ["Create with metadata (left to protovalidate)", CreateRequestSchema, { groupId: "g", email: "a@example.com", metadata: { k: "v" } }],
  ["Create with a time to live (a message, left to protovalidate)", CreateRequestSchema, { groupId: "g", email: "a@example.com", expiration: { case: "ttl", value: { seconds: 60n } } }],
] as const)("%s is not certain", (_, schema, init) => {
  expect(quickCheck(schema as DescMessage)(create(schema as DescMessage, init))).toBe(false);
});

test("a message a field holds is protovalidate's to check, even where the field has no rules", () => {
  const check = quickCheck(ApiSchema);
  expect(check(create(ApiSchema, { name: "a" }))).toBe(true);
  expect(check(create(ApiSchema, { sourceContext: {} }))).toBe(false);
  expect(check(create(ApiSchema, { methods: [{}] }))).toBe(false);
});

test("a proto2 or editions type is always protovalidate's", () => {
  expect(quickCheck(FileDescriptorProtoSchema)(create(FileDescriptorProtoSchema))).toBe(false);
});

test.each(["@bufbuild/re2", "@bufbuild/cel"])("%s is the very copy protovalidate loads", (name) => {
  // The quick check matches patterns with @bufbuild/re2 and its CEL is tested against @bufbuild/cel;
  // another installed version of either could disagree with protovalidate.
  const protovalidate = dirname(require.resolve("@bufbuild/protovalidate"));
  expect(require.resolve(name, { paths: [protovalidate] })).toBe(require.resolve(name));
});
