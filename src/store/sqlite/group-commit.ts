import type Database from "better-sqlite3";

interface Queued {
  operation: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

export interface GroupCommit {
  <T>(operation: () => T): Promise<T>;
  /** Starts no group until `release()`; operations queue meanwhile. */
  hold(): void;
  release(): void;
}

/**
 * Runs the operations queued in one turn of the event loop in a single
 * transaction, each in its own savepoint when it opens one.
 *
 * For writes (`immediate`, the default): a commit writes every page it
 * changed to the WAL, and many pages (the table's last leaf, time-ordered
 * indexes) are shared, so under concurrent writes one commit per group costs
 * a fraction of one per write. A write that fails undoes only its own
 * changes (its savepoint, or its single statement, which SQLite undoes by
 * itself); a failure that ends the transaction fails the whole group, and no
 * caller hears of success before the commit.
 *
 * For reads (`deferred`): in WAL mode each transaction takes a read lock
 * through the shared-memory index, which costs more than an indexed point
 * read; a group pays it once and reads one consistent snapshot.
 */
export function createGroupCommit(db: Database.Database, maxGroupSize = 128, lock: "immediate" | "deferred" = "immediate"): GroupCommit {
  let queue: Queued[] = [];
  let held = false;
  // One flush pending at most: every call asks for one, and release() asks again.
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  const runGroup = db.transaction((group: Queued[]) => {
    for (const item of group) {
      try {
        // Nested in this transaction, an operation's own db.transaction() is a savepoint.
        item.outcome = { ok: true, value: item.operation() };
      } catch (error) {
        if (!db.inTransaction) throw error;
        item.outcome = { ok: false, error };
      }
    }
  });

  // A group runs without yielding, so its size bounds how long other calls wait for the event loop.
  const flush = () => {
    scheduled = false;
    if (held) return;
    const group = queue.splice(0, maxGroupSize);
    if (queue.length > 0) schedule();
    try {
      runGroup[lock](group);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    for (const { outcome, resolve, reject } of group) {
      if (outcome?.ok) resolve(outcome.value);
      else reject(outcome?.error);
    }
  };

  const run = <T>(operation: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ operation, resolve: resolve as (value: unknown) => void, reject });
      schedule();
    });
  return Object.assign(run, {
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      if (queue.length > 0) schedule();
    },
  });
}
