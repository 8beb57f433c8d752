import { create, createFileRegistry, setExtension, type DescMessage, type Message } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FieldOptionsSchema,
  FileDescriptorProtoSchema,
  file_google_protobuf_descriptor,
} from "@bufbuild/protobuf/wkt";
import { createValidator } from "@bufbuild/protovalidate";
import { FieldRulesSchema, field as fieldRules, type FieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { quickCheck } from "../../src/interceptors/quick-validity.js";
import { seedFrom, seededRandom } from "../support/seeded-random.js";

// Rules the invites proto does not use: message types built here, with their rules as field options.
function options(rules: Partial<Omit<FieldRules, "$typeName">>) {
  const fieldOptions = create(FieldOptionsSchema);
  setExtension(fieldOptions, fieldRules, create(FieldRulesSchema, rules as never));
  return fieldOptions;
}

const field = (name: string, number: number, type: Type, rules?: Partial<Omit<FieldRules, "$typeName">>, more: object = {}) => ({
  name, number, type, jsonName: name, label: Label.OPTIONAL, ...(rules ? { options: options(rules) } : {}), ...more,
});
const file = create(FileDescriptorProtoSchema, {
  name: "quick_test.proto",
  package: "quicktest",
  syntax: "proto3",
  messageType: [
    {
      // Rules the check reads, where a zero value or a held message can break them.
      name: "Probe",
      field: [
        field("b", 2, Type.INT32, { type: { case: "int32", value: { greaterThan: { case: "gt", value: 5 } } } } as never),
        field("c", 3, Type.STRING, { type: { case: "string", value: { maxLen: 2n } } } as never),
        field("e", 6, Type.INT32, { type: { case: "int32", value: { lessThan: { case: "lte", value: 3 } } } } as never),
        field("f", 7, Type.STRING, { type: { case: "repeated", value: { maxItems: 1n } } } as never, { label: Label.REPEATED }),
        field("inner", 5, Type.MESSAGE, undefined, { typeName: ".quicktest.Inner" }),
      ],
    },
    {
      // Minimums: always left to protovalidate.
      name: "Minimums",
      field: [
        field("a", 1, Type.STRING, { type: { case: "string", value: { minLen: 1n } } } as never),
        field("d", 4, Type.STRING, { type: { case: "repeated", value: { minItems: 1n } } } as never, { label: Label.REPEATED }),
      ],
    },
    { name: "Inner", field: [field("x", 1, Type.STRING, { required: true })] },
  ],
});
const registry = createFileRegistry(file, (name) => (name === file_google_protobuf_descriptor.name ? file_google_protobuf_descriptor : undefined));
const probe = registry.getMessage("quicktest.Probe") as DescMessage;
const minimums = registry.getMessage("quicktest.Minimums") as DescMessage;
const validator = createValidator();

test("on rules the invites proto lacks, what the quick check calls valid protovalidate calls valid", () => {
  const check = quickCheck(probe);
  const r = seededRandom(seedFrom(probe.typeName));
  let passed = 0;
  for (let i = 0; i < 2000; i++) {
    const message = create(probe, {
      b: r.pick([0, 5, 6]),
      c: r.pick(["", "ab", "abc"]),
      e: r.pick([0, 3, 4, -4]),
      f: r.pick([[], ["x"], ["x", "y"]]),
      inner: r.pick([undefined, { x: "" }, { x: "y" }]),
    } as never) as Message;
    if (!check(message)) continue;
    passed++;
    expect({ message, verdict: validator.validate(probe, message as never).kind }).toEqual({ message, verdict: "valid" });
  }
  // About 1 in 54 can pass (b = 6, f empty, no inner, c and e in bounds).
  expect(passed).toBeGreaterThan(10);
});

test("a zero value is checked like any other; a held message and a minimum are left to protovalidate", () => {
  const check = quickCheck(probe);
  expect(check(create(probe, { b: 6 } as never))).toBe(true);
  expect(check(create(probe, { b: 0 } as never))).toBe(false);
  expect(check(create(probe, { b: 6, inner: { x: "y" } } as never))).toBe(false);
  expect(check(create(probe, { b: 6, f: ["x", "y"] } as never))).toBe(false);
  expect(quickCheck(minimums)(create(minimums, { a: "x", d: ["x"] } as never))).toBe(false);
});
