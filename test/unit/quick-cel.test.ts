import { create, createRegistry, type DescMessage } from "@bufbuild/protobuf";
import { parse, run } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { compileCel } from "../../src/interceptors/quick-cel.js";
import { CreateRequestSchema, ReadRequestSchema, file_invites_v1_invites } from "../../gen/invites/v1/invites_pb.js";
import { seedFrom, seededRandom, type SeededRandom } from "../support/seeded-random.js";

const registry = createRegistry(file_invites_v1_invites);

// The proto's own rules, and more of the part compileCel covers: ==, !, &&, has(), int literals and trim().
const expressions: [DescMessage, string][] = [
  [ReadRequestSchema, "this.id != '' || this.code != ''"],
  [CreateRequestSchema, "this.email != '' || this.open_link || (has(this.max_uses) && this.max_uses != 1)"],
  [CreateRequestSchema, "!(this.open_link && this.email != '')"],
  [CreateRequestSchema, "this.max_uses == 0 && !has(this.max_uses)"],
  [CreateRequestSchema, "this.group_id == this.email || this.open_link == false"],
  [CreateRequestSchema, "this.max_uses != -2147483648 && (this.role == 'admin' || !(this.inviter != ''))"],
  [CreateRequestSchema, "this.email.trim() == 'a@example.com' || this.group_id.trim() != this.group_id"],
];

// Unicode's white space and the characters JavaScript's trim() and CEL's disagree on (U+FEFF, U+0085).
const spaces = ["", " ", "\t", "\n", "\u0085", "\u00a0", "\u2028", "\u3000", "\ufeff", "\u200b"];
const env = { registry, funcs: strings };

function randomCreate(r: SeededRandom) {
  const pick = <T>(items: T[]) => r.pick(items);
  return create(CreateRequestSchema, {
    groupId: pick(spaces) + pick(["", "g", "a@example.com"]),
    email: pick(spaces) + pick(["", "a@example.com", "g"]) + pick(spaces),
    openLink: pick([true, false]),
    maxUses: pick([undefined, 0, 1, 2, -2147483648]),
    role: pick(["", "admin", "user"]),
    inviter: pick(["", "x"]),
  });
}

test.each(expressions)("%s: %s evaluates as CEL does on 500 random messages", (schema, expression) => {
  const evaluate = compileCel(schema, parse(expression).expr);
  expect(evaluate).toBeDefined();
  const r = seededRandom(seedFrom(expression));
  for (let i = 0; i < 500; i++) {
    const message = schema === ReadRequestSchema ? create(ReadRequestSchema, { id: r.pick(["", "x"]), code: r.pick(["", "C"]) }) : randomCreate(r);
    expect({ expression, message, result: evaluate!(message as never) }).toEqual({ expression, message, result: run(expression, { this: message }, env) });
  }
});

test("a field's own rule sees the field as `this`: trim() as CEL's strings extension trims", () => {
  const email = CreateRequestSchema.field.email;
  const expression = "this.trim() == 'a@example.com' || this.trim() == ''";
  const evaluate = compileCel(email, parse(expression).expr);
  expect(evaluate).toBeDefined();
  for (const before of spaces) {
    for (const after of spaces) {
      for (const text of ["", "a@example.com", "b"]) {
        const value = before + text + after;
        expect({ value, result: evaluate!(value) }).toEqual({ value, result: run(expression, { this: value }, env) });
      }
    }
  }
  // Not vacuous: surrounding white space is trimmed, U+FEFF (which JavaScript trims) is not.
  expect(evaluate!(" a@example.com\u0085")).toBe(true);
  expect(evaluate!("\ufeffa@example.com")).toBe(false);
});

test.each([
  ["a function it does not cover", "this.email.size() > 0"],
  ["a method it does not cover", "this.email.lowerAscii() != ''"],
  ["a method with arguments", "this.email.startsWith('a')"],
  ["`this` alone, in a message's rule", "this == this"],
  ["has() on a field without presence", "has(this.email)"],
  ["a comparison CEL refuses (string with int)", "this.group_id == 1"],
  ["a field of a oneof", "this.never_expires"],
  ["a map field", "this.metadata == {}"],
  ["a non-boolean result", "this.email"],
  ["an int literal beyond 32 bits", "this.max_uses != 4294967296"],
])("%s gives no compiled check", (_, expression) => {
  expect(compileCel(CreateRequestSchema, parse(expression).expr)).toBeUndefined();
});
