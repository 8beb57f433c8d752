import type { IncomingHttpHeaders } from "node:http";

/**
 * A request's headers as a `Headers`, read straight from Node's header
 * object. The interceptors read two headers per call, and copying them all
 * into a real `Headers` costs more than the rest of the access check; the
 * copy is made only if something other than `get` or `has` is called.
 * Pseudo-headers (`:path`) are not headers and stay hidden, as in a copy.
 */
export function headersView(incoming: IncomingHttpHeaders): Headers {
  let copy: Headers | undefined;
  const full = () => (copy ??= copyHeaders(incoming));
  const get = (name: string): string | null => {
    if (copy) return copy.get(name);
    const key = name.toLowerCase();
    const value = key.startsWith(":") ? undefined : incoming[key];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  };
  const view: Omit<Headers, "forEach"> & { forEach: Headers["forEach"] } = {
    get,
    has: (name) => get(name) !== null,
    set: (name, value) => full().set(name, value),
    append: (name, value) => full().append(name, value),
    delete: (name) => full().delete(name),
    getSetCookie: () => full().getSetCookie(),
    forEach: (callback, thisArg) => full().forEach((value, name) => callback.call(thisArg, value, name, view as Headers)),
    entries: () => full().entries(),
    keys: () => full().keys(),
    values: () => full().values(),
    [Symbol.iterator]: () => full()[Symbol.iterator](),
  };
  return view as Headers;
}

function copyHeaders(incoming: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (name.startsWith(":") || value === undefined) continue;
    out.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return out;
}
