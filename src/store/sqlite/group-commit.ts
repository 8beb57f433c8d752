import type Database from "better-sqlite3";

interface Queued {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

export type GroupCommit = <T>(write: () => T) => Promise<T>;

/**
 * Runs the writes queued in one turn of the event loop in a single IMMEDIATE
 * transaction, each in its own savepoint. A commit writes every page it
 * changed to the WAL, and most pages (the table's last leaf, time-ordered
 * indexes) are shared, so under concurrent writes one commit per group costs
 * a fraction of one per write. A write that fails rolls back its own
 * savepoint only; a failure that ends the transaction fails the whole group,
 * and no caller hears of success before the commit.
 */
export function createGroupCommit(db: Database.Database, maxGroupSize = 128): GroupCommit {
  let queue: Queued[] = [];

  const runGroup = db.transaction((group: Queued[]) => {
    for (const item of group) {
      try {
        // Nested in this transaction, each write's own db.transaction() is a savepoint.
        item.outcome = { ok: true, value: item.write() };
      } catch (error) {
        if (!db.inTransaction) throw error;
        item.outcome = { ok: false, error };
      }
    }
  });

  // A group runs without yielding, so its size bounds how long other calls wait for the event loop.
  const flush = () => {
    const group = queue.splice(0, maxGroupSize);
    if (queue.length > 0) setImmediate(flush);
    try {
      runGroup.immediate(group);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    for (const { outcome, resolve, reject } of group) {
      if (outcome?.ok) resolve(outcome.value);
      else reject(outcome?.error);
    }
  };

  return <T>(write: () => T) =>
    new Promise<T>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
    });
}
