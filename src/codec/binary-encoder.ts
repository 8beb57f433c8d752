import { toBinary, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { isSet, planMessage, presenceOf, type Presence, type Shape } from "./field-plan.js";

/**
 * Binary encoding planned once per message type. protobuf-es encodes through
 * reflection and a chunked writer, about 7 µs for one invite here; a plan
 * that measures the message, allocates once and writes into the buffer takes
 * a fraction of that. It covers the field kinds this service's answers use
 * and gives the type to `toBinary` otherwise, so the bytes are the same
 * either way (test/unit/codec.test.ts compares them).
 */
export function binaryEncoder(schema: DescMessage): (message: Message) => Uint8Array {
  const plan = planMessage(schema, planStep);
  if (!plan) return (message) => toBinary(schema, message);
  return (message) => {
    // Nested lengths and string byte lengths, in the order the write pass meets them.
    const lengths: number[] = [];
    let size: number;
    try {
      size = measure(plan, message, lengths);
    } catch (err) {
      if (err === unknownFields) return toBinary(schema, message);
      throw err;
    }
    // allocUnsafe may hold other requests' bytes: every one must be written over.
    const buffer = Buffer.allocUnsafe(size);
    if (write(plan, message, buffer, 0, lengths, { at: 0 }) !== size) throw new Error(`${schema.typeName}: encoded size differs from measured size`);
    return buffer;
  };
}

type Kind = Exclude<Shape, "enum">;

interface FieldStep {
  name: string;
  kind: Kind;
  tag: Buffer;
  presence: Presence;
  plan?: Plan;
}

type Plan = FieldStep[];

const lengthDelimited = 2;
const varint = 0;

function planStep(field: DescField, shape: Shape, inner: Plan | undefined): FieldStep | undefined {
  const base = { name: field.localName, presence: presenceOf(field, shape) };
  switch (shape) {
    case "message":
    case "messageList":
      return inner && { ...base, kind: shape, tag: tag(field.number, lengthDelimited), plan: inner };
    case "string":
    case "stringList":
    case "stringMap":
      return { ...base, kind: shape, tag: tag(field.number, lengthDelimited) };
    case "enum":
      return { ...base, kind: "int32", tag: tag(field.number, varint) };
    default:
      return { ...base, kind: shape, tag: tag(field.number, varint) };
  }
}

function tag(fieldNumber: number, wireType: number): Buffer {
  const bytes: number[] = [];
  let value = ((fieldNumber << 3) | wireType) >>> 0;
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

type Fields = Record<string, unknown>;

/** Thrown while measuring a message that holds unknown fields, which the plan does not write. */
const unknownFields = Symbol("unknown fields");

function measure(plan: Plan, message: unknown, lengths: number[]): number {
  if ((message as Message).$unknown?.length) throw unknownFields;
  let total = 0;
  for (const step of plan) {
    const value = (message as Fields)[step.name];
    if (!isSet(step.presence, value)) continue;
    switch (step.kind) {
      case "string":
        total += step.tag.length + measureString(value as string, lengths);
        break;
      case "bool":
        total += step.tag.length + 1;
        break;
      case "int32":
        total += step.tag.length + ((value as number) < 0 ? 10 : varintLength(value as number));
        break;
      case "uint32":
        total += step.tag.length + varintLength((value as number) >>> 0);
        break;
      case "int64":
        total += step.tag.length + int64Length(value as bigint | string);
        break;
      case "message":
        total += step.tag.length + measureNested(step.plan!, value, lengths);
        break;
      case "messageList":
        for (const item of value as unknown[]) total += step.tag.length + measureNested(step.plan!, item, lengths);
        break;
      case "stringList":
        for (const item of value as string[]) total += step.tag.length + measureString(item, lengths);
        break;
      case "stringMap":
        for (const [key, item] of Object.entries(value as Record<string, string>)) {
          // An entry is a message of key (field 1) and value (field 2), both always written.
          const slot = lengths.push(0) - 1;
          const entry = 2 + measureString(key, lengths) + measureString(item, lengths);
          lengths[slot] = entry;
          total += step.tag.length + varintLength(entry) + entry;
        }
        break;
    }
  }
  return total;
}

function measureNested(plan: Plan, message: unknown, lengths: number[]): number {
  const slot = lengths.push(0) - 1;
  const length = measure(plan, message, lengths);
  lengths[slot] = length;
  return varintLength(length) + length;
}

function measureString(value: string, lengths: number[]): number {
  const length = Buffer.byteLength(value, "utf8");
  lengths.push(length);
  return varintLength(length) + length;
}

function write(plan: Plan, message: unknown, buffer: Buffer, at: number, lengths: number[], cursor: { at: number }): number {
  for (const step of plan) {
    const value = (message as Fields)[step.name];
    if (!isSet(step.presence, value)) continue;
    switch (step.kind) {
      case "string":
        at = writeString(buffer, writeTag(buffer, at, step.tag), value as string, lengths, cursor);
        break;
      case "bool":
        at = writeTag(buffer, at, step.tag);
        buffer[at++] = value ? 1 : 0;
        break;
      case "int32":
        at = writeInt32(buffer, writeTag(buffer, at, step.tag), value as number);
        break;
      case "uint32":
        at = writeVarint(buffer, writeTag(buffer, at, step.tag), (value as number) >>> 0);
        break;
      case "int64":
        at = writeInt64(buffer, writeTag(buffer, at, step.tag), value as bigint | string);
        break;
      case "message":
        at = writeNested(step.plan!, value, buffer, writeTag(buffer, at, step.tag), lengths, cursor);
        break;
      case "messageList":
        for (const item of value as unknown[]) at = writeNested(step.plan!, item, buffer, writeTag(buffer, at, step.tag), lengths, cursor);
        break;
      case "stringList":
        for (const item of value as string[]) at = writeString(buffer, writeTag(buffer, at, step.tag), item, lengths, cursor);
        break;
      case "stringMap":
        for (const [key, item] of Object.entries(value as Record<string, string>)) {
          at = writeVarint(buffer, writeTag(buffer, at, step.tag), lengths[cursor.at++]);
          buffer[at++] = 0x0a;
          at = writeString(buffer, at, key, lengths, cursor);
          buffer[at++] = 0x12;
          at = writeString(buffer, at, item, lengths, cursor);
        }
        break;
    }
  }
  return at;
}

function writeNested(plan: Plan, message: unknown, buffer: Buffer, at: number, lengths: number[], cursor: { at: number }): number {
  at = writeVarint(buffer, at, lengths[cursor.at++]);
  return write(plan, message, buffer, at, lengths, cursor);
}

function writeTag(buffer: Buffer, at: number, tagBytes: Buffer): number {
  for (let i = 0; i < tagBytes.length; i++) buffer[at++] = tagBytes[i];
  return at;
}

function writeString(buffer: Buffer, at: number, value: string, lengths: number[], cursor: { at: number }): number {
  const length = lengths[cursor.at++];
  at = writeVarint(buffer, at, length);
  return at + buffer.write(value, at, length, "utf8");
}

function varintLength(value: number): number {
  let length = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** A non-negative integer up to 2^53 as a varint. */
function writeVarint(buffer: Buffer, at: number, value: number): number {
  while (value > 0x7f) {
    buffer[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buffer[at++] = value;
  return at;
}

/** Negative int32 values are sign-extended to 64 bits: ten bytes. */
function writeInt32(buffer: Buffer, at: number, value: number): number {
  return value < 0 ? writeUint64(buffer, at, BigInt.asUintN(64, BigInt(value))) : writeVarint(buffer, at, value);
}

function int64Length(value: bigint | string): number {
  const number = Number(value);
  if (number >= 0 && Number.isSafeInteger(number)) return varintLength(number);
  let unsigned = BigInt.asUintN(64, BigInt(value));
  let length = 1;
  while (unsigned > 0x7fn) {
    unsigned >>= 7n;
    length++;
  }
  return length;
}

function writeInt64(buffer: Buffer, at: number, value: bigint | string): number {
  const number = Number(value);
  if (number >= 0 && Number.isSafeInteger(number)) return writeVarint(buffer, at, number);
  return writeUint64(buffer, at, BigInt.asUintN(64, BigInt(value)));
}

function writeUint64(buffer: Buffer, at: number, value: bigint): number {
  while (value > 0x7fn) {
    buffer[at++] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  buffer[at++] = Number(value);
  return at;
}
