import type { IncomingHttpHeaders } from "node:http";

/**
 * A request's headers as a `Headers`, read straight from Node's header
 * object. The interceptors read two headers per call, and copying them all
 * into a real `Headers` costs more than the rest of the access check; the
 * copy is made only if something other than `get` or `has` is called.
 * Pseudo-headers (`:path`) are not headers and stay hidden, as in a copy.
 * A class rather than a literal of closures, like the other per-call objects
 * of the lean path (lean-call.ts): one allocation per call, methods shared.
 */
export function headersView(incoming: IncomingHttpHeaders): Headers {
  return new HeadersView(incoming);
}

class HeadersView implements Headers {
  readonly #incoming: IncomingHttpHeaders;
  #copy: Headers | undefined;

  constructor(incoming: IncomingHttpHeaders) {
    this.#incoming = incoming;
  }

  get(name: string): string | null {
    if (this.#copy) return this.#copy.get(name);
    const key = name.toLowerCase();
    const value = key.startsWith(":") ? undefined : this.#incoming[key];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  set(name: string, value: string): void {
    this.#full().set(name, value);
  }

  append(name: string, value: string): void {
    this.#full().append(name, value);
  }

  delete(name: string): void {
    this.#full().delete(name);
  }

  getSetCookie(): string[] {
    return this.#full().getSetCookie();
  }

  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#full().forEach((value, name) => callback.call(thisArg, value, name, this));
  }

  entries() {
    return this.#full().entries();
  }

  keys() {
    return this.#full().keys();
  }

  values() {
    return this.#full().values();
  }

  [Symbol.iterator]() {
    return this.#full()[Symbol.iterator]();
  }

  #full(): Headers {
    return (this.#copy ??= copyHeaders(this.#incoming));
  }
}

function copyHeaders(incoming: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (name.startsWith(":") || value === undefined) continue;
    out.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return out;
}
