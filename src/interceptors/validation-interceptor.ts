import { createValidator, violationsToProto, type Violation } from "@bufbuild/protovalidate";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { Code, type Interceptor } from "@connectrpc/connect";
import { rpcError } from "../errors.js";
import { quickCheck, type QuickCheck } from "./quick-validity.js";

/**
 * Enforces the buf.validate rules written in the proto on every unary
 * request, before any handler runs. A request that a quick look at its rules
 * shows valid skips protovalidate (quick-validity.ts); any other gets it.
 */
export function createValidationInterceptor(): Interceptor {
  const validator = createValidator();
  const quickChecks = new Map<DescMessage, QuickCheck>();
  const certainlyValid = (schema: DescMessage, message: Message) => {
    let check = quickChecks.get(schema);
    if (!check) quickChecks.set(schema, (check = quickCheck(schema)));
    return check(message);
  };
  // Not an async function: the call's own promise passes through, without one more around it.
  return (next) => (req) => {
    if (!req.stream && !certainlyValid(req.method.input, req.message)) {
      const result = validator.validate(req.method.input, req.message);
      if (result.kind === "invalid") return Promise.reject(invalidArgument(result.error.violations));
      if (result.kind === "error") return Promise.reject(result.error);
    }
    return next(req);
  };
}

function invalidArgument(violations: Violation[]) {
  const [proto] = violationsToProto(violations);
  const fieldViolations = proto.violations.map((v) => {
    const field = fieldName(v.field?.elements ?? []);
    return { field, description: v.message, reason: reasonFor(v.ruleId, field) };
  });
  const first = fieldViolations[0];
  const message = first.field ? `${first.field}: ${first.description}` : first.description;
  return rpcError(Code.InvalidArgument, first.reason, message, {
    field: first.field || undefined,
    fieldViolations,
  });
}

function fieldName(elements: readonly { fieldName: string }[]): string {
  return elements.map((e) => e.fieldName).join(".");
}

/**
 * Reasons follow M3O's ids: a missing field is MISSING_<FIELD>, a custom rule
 * is named by its own id, and any other broken rule is INVALID_<FIELD>.
 */
function reasonFor(ruleId: string, field: string): string {
  const upperField = field.replace(/\./g, "_").toUpperCase();
  if (ruleId === "required") return `MISSING_${upperField}`;
  if (!ruleId.includes(".") && ruleId !== "") return ruleId.toUpperCase();
  return `INVALID_${upperField}`;
}
