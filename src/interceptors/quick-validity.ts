import { getOption, isFieldSet, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import { parse } from "@bufbuild/cel";
import {
  BoolRulesSchema,
  Ignore,
  Int32RulesSchema,
  MapRulesSchema,
  RepeatedRulesSchema,
  StringRulesSchema,
  field as fieldRulesOption,
  message as messageRulesOption,
  oneof as oneofRulesOption,
  type FieldRules,
} from "../../gen/buf/validate/validate_pb.js";
import { compileCel } from "./quick-cel.js";

/**
 * Says, from the buf.validate rules of a message type, whether a message
 * certainly satisfies them, for requests whose rules are simple: a string's
 * length, a number's bounds, a constant, an empty list, and message-level CEL
 * made of field comparisons and logic. It never finds a violation: "not
 * certain" sends the message to protovalidate, which has the last word and
 * writes every error. protovalidate costs a Read about a fifth of its
 * throughput here, most of it evaluating CEL; this check costs a fraction of
 * a microsecond. test/unit/quick-validity.test.ts holds it to protovalidate's
 * verdict on random messages of every request type.
 */
export type QuickCheck = (message: Message) => boolean;

type Values = Record<string, unknown>;
type Check = (message: Values) => boolean;

export function quickCheck(schema: DescMessage): QuickCheck {
  const checks: Check[] = [];
  const rules = getOption(schema, messageRulesOption);
  if (rules.oneof.length > 0 || rules.$unknown?.length) return () => false;
  for (const expression of [...rules.celExpression, ...rules.cel.map((rule) => rule.expression)]) {
    const evaluate = compileCel(schema, parse(expression).expr);
    if (!evaluate) return () => false;
    checks.push((message) => evaluate(message) === true);
  }
  for (const oneof of schema.oneofs) {
    if (getOption(oneof, oneofRulesOption).required) checks.push((message) => (message[oneof.localName] as { case?: string }).case !== undefined);
  }
  for (const field of schema.fields) {
    const check = fieldCheck(field, getOption(field, fieldRulesOption));
    if (check) checks.push(check);
  }
  return (message) => checks.every((check) => check(message as unknown as Values));
}

/** A check of one field's rules, or undefined when it has none. */
function fieldCheck(field: DescField, rules: FieldRules): Check | undefined {
  const hasRules = rules.required || rules.cel.length > 0 || rules.celExpression.length > 0 || rules.type.case !== undefined;
  if (!hasRules || rules.ignore === Ignore.ALWAYS) return undefined;
  if (rules.$unknown?.length) return () => false;
  const valueCheck = rules.cel.length > 0 || rules.celExpression.length > 0 ? uncertain : typeCheck(rules);
  const explicit = field.fieldKind === "message" || field.oneof !== undefined || field.presence === FeatureSet_FieldPresence.EXPLICIT;
  return (message) => {
    const value = field.oneof ? selected(message, field) : message[field.localName];
    if (explicit) {
      if (value === undefined) return !rules.required;
      // Whether such a field's zero value counts as ignored is left to protovalidate.
      if (rules.ignore === Ignore.IF_ZERO_VALUE || field.fieldKind === "message") return false;
      return valueCheck(value);
    }
    if (isZero(field, value)) {
      if (rules.required) return false;
      if (rules.ignore === Ignore.IF_ZERO_VALUE) return true;
    }
    // Without presence, the zero value is checked like any other.
    return valueCheck(value);
  };
}

function selected(message: Values, field: DescField): unknown {
  const oneof = message[field.oneof!.localName] as { case?: string; value?: unknown };
  return oneof.case === field.localName ? oneof.value : undefined;
}

function isZero(field: DescField, value: unknown): boolean {
  if (field.fieldKind === "list") return (value as unknown[]).length === 0;
  if (field.fieldKind === "map") return Object.keys(value as object).length === 0;
  return value === "" || value === 0 || value === false || value === 0n || (value instanceof Uint8Array && value.length === 0);
}

const uncertain = () => false;

/** The rules set on a rules message (example values are not rules). */
function rulesSet(rules: Message, schema: DescMessage): string[] {
  return schema.fields.filter((f) => f.localName !== "example" && isFieldSet(rules, f)).map((f) => f.localName);
}

function typeCheck(rules: FieldRules): (value: unknown) => boolean {
  const { type } = rules;
  if (type.case === undefined) return () => true;
  if (type.value.$unknown?.length) return uncertain;
  const only = (schema: DescMessage, ...allowed: string[]) => rulesSet(type.value, schema).every((name) => allowed.includes(name));
  switch (type.case) {
    case "string": {
      const maxLen = Number(type.value.maxLen);
      // A string's length in code points is at most its length in UTF-16 units.
      return only(StringRulesSchema, "maxLen") ? (value) => (value as string).length <= maxLen : uncertain;
    }
    case "int32": {
      if (!only(Int32RulesSchema, "lt", "lte", "gt", "gte")) return uncertain;
      const { lessThan, greaterThan } = type.value;
      return (value) => {
        const n = value as number;
        const below = lessThan.case === undefined || (lessThan.case === "lt" ? n < lessThan.value : n <= lessThan.value);
        const above = greaterThan.case === undefined || (greaterThan.case === "gt" ? n > greaterThan.value : n >= greaterThan.value);
        return below && above;
      };
    }
    case "bool": {
      const expected = type.value.const;
      return only(BoolRulesSchema, "const") ? (value) => value === expected : uncertain;
    }
    // An empty list or map meets every rule but a minimum.
    case "repeated":
      return only(RepeatedRulesSchema, "maxItems", "unique", "items") ? (value) => (value as unknown[]).length === 0 : uncertain;
    case "map":
      return only(MapRulesSchema, "maxPairs", "keys", "values") ? (value) => Object.keys(value as object).length === 0 : uncertain;
    default:
      return uncertain;
  }
}
