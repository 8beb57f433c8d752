import { DuplicateCodeError, PendingInviteExistsError, StoreUnavailableError } from "../store.js";

/** Runs `operation` again while SQLite answers BUSY, for up to `timeoutMs`. */
export function retryWhileBusy(timeoutMs: number, operation: () => void): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return operation();
    } catch (err) {
      if (!(isSqliteError(err) && err.code.startsWith("SQLITE_BUSY")) || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 40);
    }
  }
}

/** Runs `operation`, throwing its SQLite errors in the store's terms. */
export function guard<T>(operation: () => T): T {
  try {
    return operation();
  } catch (err) {
    throw storeError(err);
  }
}

/**
 * SQLite's errors in the store's terms: a clash on the code or on the one
 * pending invite per email and group becomes its typed error, and errors that
 * mean "try again later" become StoreUnavailableError.
 */
export function storeError(err: unknown): unknown {
  if (isUniqueViolation(err, "invites.code")) return new DuplicateCodeError("invite code already taken");
  if (isUniqueViolation(err, "invites.namespace")) return new PendingInviteExistsError("a pending invite for this email and group exists");
  if (isSqliteError(err) && /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL)/.test(err.code)) {
    return new StoreUnavailableError(`sqlite: ${err.code}`, { cause: err });
  }
  return err;
}

// Duck-typed: better-sqlite3's errors may come from another realm (as under jest), failing instanceof.
function isSqliteError(err: unknown): err is { code: string; message: string } {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return typeof code === "string" && code.startsWith("SQLITE_") && typeof message === "string";
}

function isUniqueViolation(err: unknown, column: string): boolean {
  return isSqliteError(err) && err.code === "SQLITE_CONSTRAINT_UNIQUE" && err.message.includes(column);
}
