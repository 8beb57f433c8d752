import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { parse } from "@bufbuild/cel";

type Expr = ReturnType<typeof parse>["expr"];
type Values = Record<string, unknown>;
type Kind = "string" | "int" | "bool";
interface Compiled {
  kind: Kind;
  evaluate: (input: unknown) => string | number | boolean;
}

/**
 * Compiles a small part of CEL over `this`: for a message's rules, its own
 * singular string, bool and int32 fields and `has()` on fields with
 * presence; for a field's rules, the field's own string, bool or int32
 * value. Then string, bool and int literals, `==`, `!=`, `&&`, `||`, `!`,
 * and on strings `trim()` (CEL's strings extension) and `isEmail()`
 * (protovalidate's). None of it can fail at run time, so `&&` and `||` are
 * JavaScript's. Anything else (another function, a message field, a type
 * mismatch CEL would refuse) gives undefined.
 */
export function compileCel(scope: DescMessage | DescField, expr: Expr): ((input: unknown) => unknown) | undefined {
  const compiled = compile(scope, expr);
  return compiled?.kind === "bool" ? compiled.evaluate : undefined;
}

function compile(scope: DescMessage | DescField, expr: Expr): Compiled | undefined {
  switch (expr.exprKind.case) {
    case "constExpr": {
      const constant = expr.exprKind.value.constantKind;
      if (constant.case === "stringValue") return literal("string", constant.value);
      if (constant.case === "boolValue") return literal("bool", constant.value);
      if (constant.case === "int64Value" && constant.value >= -(2n ** 31n) && constant.value < 2n ** 31n) return literal("int", Number(constant.value));
      return undefined;
    }
    case "identExpr": {
      if (expr.exprKind.value.name !== "this" || scope.kind !== "field") return undefined;
      const kind = scope.fieldKind === "scalar" ? kindOf(scope.scalar) : undefined;
      return kind && { kind, evaluate: (value) => value as string | number | boolean };
    }
    case "selectExpr": {
      const { operand, field: name, testOnly } = expr.exprKind.value;
      if (scope.kind !== "message" || operand?.exprKind.case !== "identExpr" || operand.exprKind.value.name !== "this") return undefined;
      const field = scope.fields.find((f) => f.name === name);
      const kind = field?.fieldKind === "scalar" && !field.oneof ? kindOf(field.scalar) : undefined;
      if (!field || !kind) return undefined;
      const explicit = field.presence === FeatureSet_FieldPresence.EXPLICIT;
      if (testOnly) return explicit ? { kind: "bool", evaluate: (m) => (m as Values)[field.localName] !== undefined } : undefined;
      const zero = kind === "string" ? "" : kind === "int" ? 0 : false;
      return { kind, evaluate: (m) => ((m as Values)[field.localName] as string | number | boolean | undefined) ?? zero };
    }
    case "callExpr": {
      const { function: name, args, target } = expr.exprKind.value;
      if (target) return args.length === 0 ? stringMethod(name, compile(scope, target)) : undefined;
      const operands = args.map((arg) => compile(scope, arg));
      if (operands.some((operand) => !operand)) return undefined;
      const [a, b] = operands as Compiled[];
      if (name === "!_" && operands.length === 1 && a.kind === "bool") return { kind: "bool", evaluate: (m) => !a.evaluate(m) };
      if (operands.length !== 2 || a.kind !== b.kind) return undefined;
      if (name === "_==_") return { kind: "bool", evaluate: (m) => a.evaluate(m) === b.evaluate(m) };
      if (name === "_!=_") return { kind: "bool", evaluate: (m) => a.evaluate(m) !== b.evaluate(m) };
      if (a.kind !== "bool") return undefined;
      if (name === "_&&_") return { kind: "bool", evaluate: (m) => a.evaluate(m) === true && b.evaluate(m) === true };
      if (name === "_||_") return { kind: "bool", evaluate: (m) => a.evaluate(m) === true || b.evaluate(m) === true };
      return undefined;
    }
    default:
      return undefined;
  }
}

function stringMethod(name: string, target: Compiled | undefined): Compiled | undefined {
  if (target?.kind !== "string") return undefined;
  const text = (input: unknown) => target.evaluate(input) as string;
  if (name === "trim") return { kind: "string", evaluate: (input) => trim(text(input)) };
  if (name === "isEmail") return { kind: "bool", evaluate: (input) => htmlEmail.test(text(input)) };
  return undefined;
}

// Unicode's White_Space, as CEL's strings extension trims it (JavaScript's trim() differs: U+FEFF, U+0085).
const whiteSpace = new Set([
  0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
  0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

function trim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && whiteSpace.has(text.charCodeAt(start))) start++;
  while (end > start && whiteSpace.has(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

// The HTML standard's valid e-mail address, which protovalidate's isEmail() tests.
const htmlEmail = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function literal(kind: Kind, value: string | number | boolean): Compiled {
  return { kind, evaluate: () => value };
}

function kindOf(scalar: ScalarType): Kind | undefined {
  if (scalar === ScalarType.STRING) return "string";
  if (scalar === ScalarType.BOOL) return "bool";
  if (scalar === ScalarType.INT32) return "int";
  return undefined;
}
