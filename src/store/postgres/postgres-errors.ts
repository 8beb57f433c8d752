import { StoreUnavailableError } from "../store.js";

// Connection failures, timeouts and a database shutting down or overloaded: worth retrying later.
const unavailableErrnos = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);
const unavailableStates = /^(08|53|57P0|57014|40001|40P01)/;

/** Runs a query, turning the failures worth retrying into StoreUnavailableError. */
export async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (isUnavailable(err)) throw new StoreUnavailableError(`postgres: ${(err as Error).message}`, { cause: err });
    throw err;
  }
}

function isUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: string; message?: string };
  if (code && (unavailableErrnos.has(code) || unavailableStates.test(code))) return true;
  return /timeout|Connection terminated|connection is closed|Client has encountered a connection error/i.test(message ?? "");
}

/** The unique constraint a failed insert or update broke, if that is why it failed. */
export function constraintOf(err: unknown): string | undefined {
  const { code, constraint } = (err ?? {}) as { code?: string; constraint?: string };
  return code === "23505" ? constraint : undefined;
}
