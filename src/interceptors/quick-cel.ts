import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { parse } from "@bufbuild/cel";

type Expr = ReturnType<typeof parse>["expr"];
type Values = Record<string, unknown>;
type Kind = "string" | "int" | "bool";
interface Compiled {
  kind: Kind;
  evaluate: (message: Values) => string | number | boolean;
}

/**
 * Compiles a small part of CEL over `this`: the message's own singular
 * string, bool and int32 fields, `has()` on fields with presence,
 * string, bool and int literals, `==`, `!=`, `&&`, `||` and `!`. None of it
 * can fail at run time, so `&&` and `||` are JavaScript's. Anything else
 * (another function, a message field, a type mismatch CEL would refuse)
 * gives undefined.
 */
export function compileCel(schema: DescMessage, expr: Expr): ((message: Values) => unknown) | undefined {
  const compiled = compile(schema, expr);
  return compiled?.kind === "bool" ? compiled.evaluate : undefined;
}

function compile(schema: DescMessage, expr: Expr): Compiled | undefined {
  switch (expr.exprKind.case) {
    case "constExpr": {
      const constant = expr.exprKind.value.constantKind;
      if (constant.case === "stringValue") return literal("string", constant.value);
      if (constant.case === "boolValue") return literal("bool", constant.value);
      if (constant.case === "int64Value" && constant.value >= -(2n ** 31n) && constant.value < 2n ** 31n) return literal("int", Number(constant.value));
      return undefined;
    }
    case "selectExpr": {
      const { operand, field: name, testOnly } = expr.exprKind.value;
      if (operand?.exprKind.case !== "identExpr" || operand.exprKind.value.name !== "this") return undefined;
      const field = schema.fields.find((f) => f.name === name);
      const kind = field && kindOf(field);
      if (!field || !kind) return undefined;
      const explicit = field.presence === FeatureSet_FieldPresence.EXPLICIT;
      if (testOnly) return explicit ? { kind: "bool", evaluate: (m) => m[field.localName] !== undefined } : undefined;
      const zero = kind === "string" ? "" : kind === "int" ? 0 : false;
      return { kind, evaluate: (m) => (m[field.localName] as string | number | boolean | undefined) ?? zero };
    }
    case "callExpr": {
      const { function: name, args, target } = expr.exprKind.value;
      if (target) return undefined;
      const operands = args.map((arg) => compile(schema, arg));
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

function literal(kind: Kind, value: string | number | boolean): Compiled {
  return { kind, evaluate: () => value };
}

function kindOf(field: DescField): Kind | undefined {
  if (field.fieldKind !== "scalar" || field.oneof) return undefined;
  if (field.scalar === ScalarType.STRING) return "string";
  if (field.scalar === ScalarType.BOOL) return "bool";
  if (field.scalar === ScalarType.INT32) return "int";
  return undefined;
}
