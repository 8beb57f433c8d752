import type { ListCursor, Page } from "./store.js";

/**
 * A page from rows fetched with one more than `limit`: the extra row only
 * tells that another page follows, and the cursor is the last kept row's.
 */
export function pageOf<Row, T>(rows: Row[], limit: number, convert: (row: Row) => T, cursor: (row: Row) => ListCursor): Page<T> {
  const items = rows.slice(0, limit);
  return { items: items.map(convert), next: rows.length > limit ? cursor(items[items.length - 1]) : undefined };
}
