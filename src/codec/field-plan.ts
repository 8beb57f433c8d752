import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { Edition, FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";

/** The field shapes the planned encoders cover; any other field leaves its type to protobuf-es. */
export type Shape = "string" | "bool" | "int32" | "uint32" | "int64" | "enum" | "message" | "messageList" | "stringList" | "stringMap";

/**
 * When a field is written, in binary and JSON alike: explicit-presence fields
 * whenever set, implicit-presence ones unless they hold their zero value,
 * lists and maps unless empty.
 */
export type Presence = "explicit" | "text" | "flag" | "number" | "integer64" | "list" | "map";

/**
 * Plans a message type for an encoder: its fields in number order (as
 * protobuf-es writes them), each made into a step by `step`, which gets the
 * plan of a message field's type when there is one. Undefined when any field
 * cannot be planned, when `covers` refuses a type, for proto2 and editions
 * (defaults and required fields, which the plans do not model), and for a
 * type that contains itself.
 */
export function planMessage<Step>(
  schema: DescMessage,
  step: (field: DescField, shape: Shape, inner: Step[] | undefined) => Step | undefined,
  covers: (schema: DescMessage) => boolean = () => true,
): Step[] | undefined {
  const seen = new Map<string, Step[] | undefined>();
  const plan = (message: DescMessage): Step[] | undefined => {
    if (seen.has(message.typeName)) return seen.get(message.typeName);
    if (message.file.edition !== Edition.EDITION_PROTO3 || !covers(message)) return undefined;
    seen.set(message.typeName, undefined);
    const steps: Step[] = [];
    for (const field of [...message.fields].sort((a, b) => a.number - b.number)) {
      const shape = shapeOf(field);
      const inner = shape === "message" || shape === "messageList" ? plan(messageOf(field)) : undefined;
      const made = shape && step(field, shape, inner);
      if (!made) return undefined;
      steps.push(made);
    }
    seen.set(message.typeName, steps);
    return steps;
  };
  return plan(schema);
}

const scalarShapes: Partial<Record<ScalarType, Shape>> = {
  [ScalarType.STRING]: "string",
  [ScalarType.BOOL]: "bool",
  [ScalarType.INT32]: "int32",
  [ScalarType.UINT32]: "uint32",
  [ScalarType.INT64]: "int64",
};

function shapeOf(field: DescField): Shape | undefined {
  if (field.oneof) return undefined;
  switch (field.fieldKind) {
    case "scalar":
      return scalarShapes[field.scalar];
    case "enum":
      return field.enum.typeName === "google.protobuf.NullValue" ? undefined : "enum";
    case "message":
      return field.delimitedEncoding ? undefined : "message";
    case "list":
      if (field.listKind === "message") return field.delimitedEncoding ? undefined : "messageList";
      return field.listKind === "scalar" && field.scalar === ScalarType.STRING ? "stringList" : undefined;
    case "map":
      return field.mapKey === ScalarType.STRING && field.mapKind === "scalar" && field.scalar === ScalarType.STRING ? "stringMap" : undefined;
  }
}

function messageOf(field: DescField): DescMessage {
  if (field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")) return field.message;
  throw new Error(`${field} is not a message field`);
}

/** A google.protobuf type: each has a JSON form of its own (a Timestamp is a string, a Struct any object). */
export function isWellKnownType(schema: DescMessage): boolean {
  return schema.typeName.startsWith("google.protobuf.");
}

export function presenceOf(field: DescField, shape: Shape): Presence {
  if (shape === "messageList" || shape === "stringList") return "list";
  if (shape === "stringMap") return "map";
  if (shape === "message" || field.presence === FeatureSet_FieldPresence.EXPLICIT) return "explicit";
  if (shape === "string") return "text";
  if (shape === "bool") return "flag";
  return shape === "int64" ? "integer64" : "number";
}

/** A planned field as the compiled encoders read it. */
export interface PlannedField {
  /** The property of the message object (protobuf-es's localName). */
  name: string;
  presence: Presence;
}

/** Whether a field's value `v` is set, as a JavaScript expression. */
const setTests: Record<Presence, string> = {
  explicit: "v !== undefined",
  text: 'v !== ""',
  flag: "v !== false",
  number: "v !== 0",
  // A bigint, or a string under jstype = JS_STRING.
  integer64: "Number(v) !== 0",
  list: "v.length > 0",
  map: "hasEntries(v)",
};

function hasEntries(value: object): boolean {
  for (const _ in value) return true;
  return false;
}

/**
 * Whether this process may compile code from text: Node run with
 * `--disallow-code-generation-from-strings`, as some deployments harden it,
 * refuses `new Function`, and the encoders then leave every type to protobuf-es.
 */
export const canCompilePlans = (() => {
  try {
    new Function("");
    return true;
  } catch {
    return false;
  }
})();

/** The statements `compilePlan` gives its source, for each field of the plan with `statement(index)` run when the field is set. */
export type EachSetField = (statement: (index: number) => string) => string;

/**
 * Compiles an encoder's function for one message type: `source` is the body
 * of a function returning it, and gets `eachSetField`, which writes for every
 * field of the plan a read of its property from the message `m` into `v`
 * and, when the field is set, the encoder's own statement. A generic loop
 * over every type's fields reads properties of many shapes by many names at
 * one place, which V8 serves only through its slow generic lookup; in a
 * function of its own per type each read sees one shape. Names from the
 * schema enter the source only as JSON string literals; `bindings` name the
 * values the encoder's statements use.
 */
export function compilePlan<T>(plan: readonly PlannedField[], bindings: Record<string, unknown>, source: (eachSetField: EachSetField) => string): T {
  const eachSetField: EachSetField = (statement) =>
    plan.map((field, i) => `v = m[${JSON.stringify(field.name)}];\nif (${setTests[field.presence]}) ${statement(i)}\n`).join("");
  const names = ["hasEntries", ...Object.keys(bindings)];
  return new Function(...names, `"use strict";\n${source(eachSetField)}`)(hasEntries, ...Object.values(bindings)) as T;
}
