import { closeSync, copyFileSync, openSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { startCheckpointer } from "../../src/store/sqlite/checkpointer.js";
import { makeTempDir } from "../support/temp-dir.js";
import { walCheckpointSequence } from "../support/wal.js";

let temp: ReturnType<typeof makeTempDir>;
// Descriptors of the tests' database files, closed once each test has closed its connections.
const descriptors: number[] = [];
beforeEach(() => (temp = makeTempDir()));
afterEach(() => {
  for (const fd of descriptors.splice(0)) closeSync(fd);
  temp.remove();
});

type CheckpointerOptions = Parameters<typeof startCheckpointer>[0];

/** A checkpointer ticking every 20 ms; by default the WAL never reaches restartPages, so writes are never held. */
function start(filename: string, options: Partial<CheckpointerOptions> & Pick<CheckpointerOptions, "onFailure">) {
  const databaseFd = options.databaseFd ?? openSync(filename, "r");
  if (options.databaseFd === undefined) descriptors.push(databaseFd);
  return startCheckpointer({ filename, databaseFd, busyTimeoutMs: 1000, intervalMs: 20, restartPages: 1_000_000, writes: { hold() {}, release() {} }, ...options });
}

async function until(condition: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("copies committed pages from the WAL into the database file, off the writing thread", async () => {
  const filename = join(temp.path, "wal.db");
  const db = new Database(filename);
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE t (v TEXT)");
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  db.transaction(() => {
    for (let i = 0; i < 5000; i++) insert.run(`row ${i} ${"x".repeat(100)}`);
  })();
  const before = statSync(filename).size;
  expect(statSync(`${filename}-wal`).size).toBeGreaterThan(500_000);

  const failures: string[] = [];
  const checkpointer = start(filename, { onFailure: (reason) => failures.push(reason) });
  try {
    await until(() => statSync(filename).size > before + 500_000);
  } finally {
    await checkpointer.stop();
  }
  expect(failures).toEqual([]);
  // Every row is in the file itself: a copy of it without the WAL holds them all
  // (the writing connection, still open, has not checkpointed).
  const fileAlone = join(temp.path, "alone.db");
  copyFileSync(filename, fileAlone);
  const reopened = new Database(fileAlone, { readonly: true });
  expect(reopened.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 5000 });
  reopened.close();
  db.close();
});

/** A file in WAL mode whose commits never checkpoint, with `frames` single-row commits in its WAL. */
function walWithFrames(filename: string, frames: number) {
  const db = new Database(filename);
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE t (v TEXT)");
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  for (let i = 0; i < frames; i++) insert.run(`row ${i}`);
  const walState = () => (db.pragma("wal_checkpoint(NOOP)") as { log: number; checkpointed: number }[])[0];
  return { db, insert, walState };
}

/**
 * Commits a row every 0.1 ms, in 1 ms turns of the event loop, until stopped: always some frames
 * the worker's last pass has not copied, never so many that it cannot catch up.
 */
function writeSteadily(insert: { run(value: string): unknown }, paused: () => boolean) {
  let stopped = false;
  const turn = () => {
    if (stopped) return;
    const end = performance.now() + 1;
    for (let next = performance.now(); !paused() && next < end; ) {
      if (performance.now() < next) continue;
      insert.run("more");
      next += 0.1;
    }
    setImmediate(turn);
  };
  setImmediate(turn);
  return () => (stopped = true);
}

test("past restartPages, holds the writes for a last pass that copies what is left, so the next write restarts the WAL", async () => {
  const filename = join(temp.path, "restart.db");
  const { db, insert, walState } = walWithFrames(filename, 200);
  const before = walCheckpointSequence(filename);
  let held = false;
  const stopWriting = writeSteadily(insert, () => held);
  const seen: { held?: { log: number; checkpointed: number }; released?: { log: number; checkpointed: number } } = {};
  const failures: string[] = [];
  // Each hold as the writes saw it (from hold to release), and as the checkpointer reported it.
  const holdsSeenMs: number[] = [];
  let heldAt = 0;
  const reportedSeconds: number[] = [];
  const checkpointer = start(filename, {
    restartPages: 100,
    writes: {
      hold: () => {
        heldAt = performance.now();
        // The last write before the hold: only the worker's last pass can copy it.
        insert.run("last");
        held = true;
        seen.held ??= walState();
      },
      release: () => {
        if (held) {
          seen.released ??= walState();
          holdsSeenMs.push(performance.now() - heldAt);
        }
        held = false;
      },
    },
    maxHoldMs: 60_000,
    onWritesHeld: (seconds) => reportedSeconds.push(seconds),
    onFailure: (reason) => failures.push(reason),
  });
  try {
    await until(() => seen.released !== undefined);
  } finally {
    stopWriting();
    await checkpointer.stop();
  }
  expect(failures).toEqual([]);
  expect(seen.held!.checkpointed).toBeLessThan(seen.held!.log);
  expect(seen.released).toEqual({ busy: 0, log: seen.held!.log, checkpointed: seen.held!.log });
  // One report a hold, in seconds, as long as the writes saw it last (give or take a
  // collection falling between the two clocks' readings).
  expect(reportedSeconds).toHaveLength(holdsSeenMs.length);
  reportedSeconds.forEach((seconds, i) => {
    expect(seconds).toBeGreaterThan(0);
    expect(seconds * 1000).toBeLessThanOrEqual(holdsSeenMs[i] + 5);
  });
  insert.run("after");
  expect(walCheckpointSequence(filename)).toBeGreaterThan(before);
  db.close();
});

test("stopping while writes are held lets them go by the time the worker has exited", async () => {
  const filename = join(temp.path, "stop.db");
  const { db, insert } = walWithFrames(filename, 200);
  let held = false;
  let stopped: Promise<void> | undefined;
  const checkpointer = start(filename, {
    restartPages: 100,
    writes: {
      hold: () => {
        held = true;
        stopped = checkpointer.stop();
      },
      release: () => (held = false),
    },
    maxHoldMs: 60_000,
    onFailure: () => undefined,
  });
  const stopWriting = writeSteadily(insert, () => held);
  try {
    await until(() => stopped !== undefined);
    await stopped;
    expect(held).toBe(false);
  } finally {
    stopWriting();
    await checkpointer.stop();
  }
  db.close();
});

test("syncs the database file through databaseFd before it holds the writes", async () => {
  const filename = join(temp.path, "flush.db");
  const { db, insert } = walWithFrames(filename, 200);
  // A descriptor that cannot be synced: the sync before the hold fails, so no hold comes.
  const unsyncable = openSync("/dev/null", "r");
  descriptors.push(unsyncable);
  let holds = 0;
  const failures: string[] = [];
  const checkpointer = start(filename, { databaseFd: unsyncable, restartPages: 100, writes: { hold: () => holds++, release() {} }, onFailure: (reason) => failures.push(reason) });
  const stopWriting = writeSteadily(insert, () => false);
  try {
    await until(() => failures.length > 0);
  } finally {
    stopWriting();
    await checkpointer.stop();
  }
  expect(failures[0]).toMatch(/fdatasync/);
  expect(holds).toBe(0);
  db.close();
});

test("reports a worker that cannot open the database", async () => {
  const failures: string[] = [];
  // No file to sync either: the worker fails before it could.
  const checkpointer = start(join(temp.path, "missing", "dir", "x.db"), { databaseFd: -1, busyTimeoutMs: 100, onFailure: (reason) => failures.push(reason) });
  try {
    await until(() => failures.length > 0);
    expect(failures[0]).toMatch(/directory does not exist|unable to open/i);
  } finally {
    await checkpointer.stop();
  }
});
