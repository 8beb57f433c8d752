import type Database from "better-sqlite3";

interface Queued {
  operation: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

export interface GroupCommitOptions {
  /** The most operations in one transaction (default 128), so a group never holds the event loop for long. */
  maxGroupSize?: number;
  /** "immediate" for writes (default), "deferred" for reads. */
  lock?: "immediate" | "deferred";
  /** The least time between the starts of two groups, in ms (default 0: a group every turn of the event loop). */
  windowMs?: number;
  /** Operations waiting that start a group before the window ends (default 16). */
  enoughToStart?: number;
  /** How long windows stay off after three in a row in whose second half nothing came (default 100 ms). */
  quietMs?: number;
}

export interface GroupCommit {
  <T>(operation: () => T): Promise<T>;
  /** Starts no group until `release()`; operations queue meanwhile. */
  hold(): void;
  release(): void;
}

// Windows in a row with nothing in their second half after which windows stop for a while.
const quietWindowsToStop = 3;

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
 * With a `windowMs`, a group starts at most that often while writes keep
 * coming, unless `enoughToStart` writes are already waiting: writes arriving
 * one at a time would otherwise each pay a whole commit (a Create alone in
 * its transaction cost 67 µs of CPU here, in groups of 10 33 µs, of 30 26).
 * A write after a quiet spell longer than the window starts at once. Writers
 * that each wait for their answer before writing again (a script creating
 * invites one by one) would only be slowed by windows, and they show as
 * windows in whose second half nothing comes: after three in a row, windows
 * stop for `quietMs`.
 *
 * For reads (`deferred`): in WAL mode each transaction takes a read lock
 * through the shared-memory index, which costs more than an indexed point
 * read; a group pays it once and reads one consistent snapshot.
 */
export function createGroupCommit(db: Database.Database, options: GroupCommitOptions = {}): GroupCommit {
  const { maxGroupSize = 128, lock = "immediate", windowMs = 0, enoughToStart = 16, quietMs = 100 } = options;
  let queue: Queued[] = [];
  let held = false;
  // One flush pending at most, in this turn or at the window's end: every call
  // asks for one, a call that makes the queue big enough asks for it sooner, and release() asks again.
  let scheduled: "turn" | "window" | undefined;
  let windowTimer: NodeJS.Timeout | undefined;
  let lastGroupAt = -Infinity;
  let lastQueuedAt = -Infinity;
  let noWindowUntil = -Infinity;
  let quietWindows = 0;
  const schedule = (now: number) => {
    if (scheduled === "turn") return;
    const wait = lastGroupAt + windowMs - now;
    if (wait > 0 && queue.length < enoughToStart && now >= noWindowUntil) {
      if (scheduled === undefined) {
        scheduled = "window";
        windowTimer = setTimeout(flush, wait);
      }
      return;
    }
    clearTimeout(windowTimer);
    scheduled = "turn";
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
    const waited = scheduled === "window";
    scheduled = undefined;
    if (held) return;
    lastGroupAt = performance.now();
    // Windows in a row in whose second half nothing came: the writers wait for each group to answer
    // before writing again, so windows only slow them; none for a while. (One such window is more
    // likely a pause of the event loop, in which no arrival is seen.)
    if (waited) quietWindows = lastGroupAt - lastQueuedAt > windowMs / 2 ? quietWindows + 1 : 0;
    if (quietWindows === quietWindowsToStop) {
      quietWindows = 0;
      noWindowUntil = lastGroupAt + quietMs;
    }
    const group = queue.splice(0, maxGroupSize);
    if (queue.length > 0) schedule(lastGroupAt);
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
      lastQueuedAt = performance.now();
      schedule(lastQueuedAt);
    });
  return Object.assign(run, {
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      if (queue.length > 0) schedule(performance.now());
    },
  });
}
