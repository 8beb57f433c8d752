import { copyFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { startCheckpointer } from "../../src/store/sqlite/checkpointer.js";
import { makeTempDir } from "../support/temp-dir.js";

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => (temp = makeTempDir()));
afterEach(() => temp.remove());

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
  const checkpointer = startCheckpointer({
    filename,
    busyTimeoutMs: 1000,
    intervalMs: 20,
    restartPages: 1_000_000,
    writes: { hold() {}, release() {} },
    onFailure: (reason) => failures.push(reason),
  });
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

test("past restartPages, holds the writes for a last pass that copies every frame, so the next write restarts the WAL", async () => {
  const filename = join(temp.path, "restart.db");
  const db = new Database(filename);
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE t (v TEXT)");
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  for (let i = 0; i < 200; i++) insert.run(`row ${i} ${"x".repeat(1000)}`);
  const sequence = () => readFileSync(`${filename}-wal`).readUInt32BE(12);
  const before = sequence();

  // What the WAL looked like from the writing connection when the worker asked for writes to stop, and when it let them go.
  const seen: { held?: { log: number; checkpointed: number }; released?: { log: number; checkpointed: number } } = {};
  const walState = () => (db.pragma("wal_checkpoint(NOOP)") as { log: number; checkpointed: number }[])[0];
  const failures: string[] = [];
  const checkpointer = startCheckpointer({
    filename,
    busyTimeoutMs: 1000,
    intervalMs: 20,
    restartPages: 100,
    writes: {
      hold: () => (seen.held ??= walState()),
      release: () => (seen.released ??= walState()),
    },
    onFailure: (reason) => failures.push(reason),
  });
  try {
    await until(() => seen.released !== undefined);
  } finally {
    await checkpointer.stop();
  }
  expect(failures).toEqual([]);
  expect(seen.held?.log).toBeGreaterThanOrEqual(200);
  expect(seen.released).toEqual({ busy: 0, log: seen.held?.log, checkpointed: seen.held?.log });
  insert.run("after");
  expect(sequence()).toBe(before + 1);
  db.close();
});

test("reports a worker that cannot open the database", async () => {
  const failures: string[] = [];
  const checkpointer = startCheckpointer({
    filename: join(temp.path, "missing", "dir", "x.db"),
    busyTimeoutMs: 100,
    intervalMs: 20,
    restartPages: 1_000_000,
    writes: { hold() {}, release() {} },
    onFailure: (reason) => failures.push(reason),
  });
  try {
    await until(() => failures.length > 0);
    expect(failures[0]).toMatch(/directory does not exist|unable to open/i);
  } finally {
    await checkpointer.stop();
  }
});
