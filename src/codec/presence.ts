import { ScalarType, type DescField } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";

/**
 * When a field is written, in binary and JSON alike: explicit-presence fields
 * whenever set, implicit-presence ones unless they hold their zero value,
 * lists and maps unless empty.
 */
export type Presence = "explicit" | "text" | "flag" | "number" | "integer64" | "list" | "map";

export function presenceOf(field: DescField): Presence {
  if (field.fieldKind === "list") return "list";
  if (field.fieldKind === "map") return "map";
  if (field.fieldKind === "message" || field.presence === FeatureSet_FieldPresence.EXPLICIT) return "explicit";
  if (field.fieldKind === "enum") return "number";
  switch (field.scalar) {
    case ScalarType.STRING:
      return "text";
    case ScalarType.BOOL:
      return "flag";
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return "integer64";
    default:
      return "number";
  }
}

export function isSet(presence: Presence, value: unknown): boolean {
  switch (presence) {
    case "explicit":
      return value !== undefined;
    case "text":
      return value !== "";
    case "flag":
      return value !== false;
    case "number":
      return value !== 0;
    case "integer64":
      // A bigint, or a string under jstype = JS_STRING.
      return Number(value) !== 0;
    case "list":
      return (value as unknown[]).length > 0;
    case "map":
      for (const _ in value as object) return true;
      return false;
  }
}
