import { ScalarType, create, fromBinary, toBinary, toJsonString, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { DurationSchema, StructSchema, TimestampSchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { binaryEncoder } from "../../src/codec/binary-encoder.js";
import { jsonEncoder } from "../../src/codec/json-encoder.js";
import { InviteSchema, ReadResponseSchema, file_invites_v1_invites } from "../../gen/invites/v1/invites_pb.js";
import { seedFrom, seededRandom, type SeededRandom } from "../support/seeded-random.js";

const strings = ["", "a", "group-17", "Zoë", "日本語", "👋🏽 hi", '"quoted" \\ back\nline\t', "\u0000\u001f", "\ud800 lone", "x".repeat(200)];
const int32s = [0, 1, 127, 128, 300, 16384, 2 ** 31 - 1, -1, -300, -(2 ** 31)];
const seconds = [0n, 1n, 1_700_000_000n, 253402300799n, -62135596800n, -1n];
// Half from the edges above, half anywhere in the range JSON can write (years 1 to 9999).
const timestampSeconds = (r: SeededRandom) =>
  r.next() < 0.5 ? r.pick(seconds) : BigInt(Math.floor(-62135596800 + r.next() * (253402300799 + 62135596800)));
const nanos = [0, 1, 1_000, 1_000_000, 7_000_000, 120_000_000, 999_000_000, 123_456_789, 999_999_999, 500_000_000];
const mapKeys = ["a", "10", "2", "role", "日本", ""];

function fill(schema: DescMessage, r: SeededRandom): Message {
  const message = create(schema) as unknown as Record<string, unknown>;
  const done = new Set<string>();
  for (const field of schema.fields) {
    if (r.next() < 0.25) continue;
    if (field.oneof) {
      if (done.has(field.oneof.name)) continue;
      done.add(field.oneof.name);
      message[field.oneof.localName] = { case: field.localName, value: valueFor(field, r) };
      continue;
    }
    message[field.localName] = valueFor(field, r);
  }
  return message as unknown as Message;
}

function valueFor(field: DescField, r: SeededRandom): unknown {
  const count = Math.floor(r.next() * 4);
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar, r);
    case "enum":
      return r.pick([...field.enum.values.map((v) => v.number), 99]);
    case "message":
      return message(field.message, r);
    case "list":
      return Array.from({ length: count }, () =>
        field.listKind === "message" ? message(field.message, r) : field.listKind === "enum" ? r.pick(field.enum.values).number : scalar(field.scalar, r),
      );
    case "map":
      return Object.fromEntries(Array.from({ length: count }, () => [r.pick(mapKeys), r.pick(strings)]));
  }
}

function message(schema: DescMessage, r: SeededRandom): Message {
  if (schema.typeName === TimestampSchema.typeName) return create(TimestampSchema, { seconds: timestampSeconds(r), nanos: r.pick(nanos) });
  if (schema.typeName === DurationSchema.typeName) return create(DurationSchema, { seconds: BigInt(Math.floor(r.next() * 1000)), nanos: r.pick(nanos) });
  return fill(schema, r);
}

// The scalar types of the invites proto; another would need values of its own.
function scalar(type: ScalarType, r: SeededRandom): unknown {
  switch (type) {
    case ScalarType.STRING:
      return r.pick(strings);
    case ScalarType.BOOL:
      return r.next() < 0.5;
    case ScalarType.UINT32:
      return r.pick(int32s) >>> 0;
    case ScalarType.INT64:
      return r.pick(seconds);
    case ScalarType.INT32:
      return r.pick(int32s);
    default:
      throw new Error(`no test values for scalar type ${type}`);
  }
}

const jsonOptionSets = [{ useProtoFieldName: true, ignoreUnknownFields: true }, {}, { enumAsInteger: true }, { alwaysEmitImplicit: true }];

/** The library's answer, or the error it throws. */
function outcome<T>(encode: () => T): { value: T } | { error: string } {
  try {
    return { value: encode() };
  } catch (err) {
    return { error: String(err) };
  }
}

describe.each(file_invites_v1_invites.messages.map((schema) => [schema.name, schema] as const))("%s", (_, schema) => {
  test("binary: the same bytes as toBinary for 500 random messages", () => {
    const encode = binaryEncoder(schema);
    const r = seededRandom(seedFrom(`binary ${schema.name}`));
    for (let i = 0; i < 500; i++) {
      const message = fill(schema, r);
      const expected = outcome(() => Buffer.from(toBinary(schema, message)).toString("hex"));
      expect(outcome(() => Buffer.from(encode(message)).toString("hex"))).toEqual(expected);
    }
  });

  test.each(jsonOptionSets)("JSON with %j: the same text as toJsonString for 500 random messages", (options) => {
    const encode = jsonEncoder(schema, options);
    const r = seededRandom(seedFrom(`json ${schema.name}`));
    for (let i = 0; i < 500; i++) {
      const message = fill(schema, r);
      expect(outcome(() => encode(message))).toEqual(outcome(() => toJsonString(schema, message, options)));
    }
  });
});

test("an invite is written by the plan, not handed to toBinary", () => {
  // toBinary answers a plain Uint8Array; the plan writes into a Buffer.
  const invite = create(InviteSchema, { id: "i", code: "C", createTime: timestampFromMs(1_700_000_000_123), maxUses: 1 });
  expect(Buffer.isBuffer(binaryEncoder(ReadResponseSchema)(create(ReadResponseSchema, { invite })))).toBe(true);
});

test("unknown fields are kept in binary, as toBinary keeps them", () => {
  const bytes = Buffer.concat([Buffer.from(toBinary(InviteSchema, create(InviteSchema, { id: "i" }))), Buffer.from([0xf8, 0x01, 0x05])]);
  const decoded = fromBinary(ReadResponseSchema, Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]));
  expect(decoded.invite?.$unknown).toHaveLength(1);
  expect(Buffer.from(binaryEncoder(ReadResponseSchema)(decoded))).toEqual(Buffer.from(toBinary(ReadResponseSchema, decoded)));
});

test("types the plans do not cover are encoded by the library", () => {
  const struct = create(StructSchema, { fields: { a: { kind: { case: "numberValue", value: 1.5 } } } });
  expect(Buffer.from(binaryEncoder(StructSchema)(struct))).toEqual(Buffer.from(toBinary(StructSchema, struct)));
  expect(jsonEncoder(StructSchema, {})(struct)).toBe(toJsonString(StructSchema, struct));
});
