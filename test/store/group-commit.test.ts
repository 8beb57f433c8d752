import { join } from "node:path";
import Database from "better-sqlite3";
import { createGroupCommit } from "../../src/store/sqlite/group-commit.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { DuplicateCodeError, StoreUnavailableError } from "../../src/store/store.js";
import { makeTempDir } from "../support/temp-dir.js";
import { draft } from "./invite-drafts.js";

describe("sqlite group commit", () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (temp = makeTempDir()));
  afterEach(() => temp.remove());

  function openDatabase() {
    const db = new Database(join(temp.path, "group.db"));
    db.pragma("journal_mode = WAL");
    db.pragma("wal_autocheckpoint = 0");
    db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY)");
    return db;
  }
  const walFrames = (db: Database.Database) => (db.pragma("wal_checkpoint(NOOP)") as { log: number }[])[0].log;

  test("writes queued in one turn share one commit", async () => {
    const db = openDatabase();
    const commit = createGroupCommit(db);
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    db.pragma("wal_checkpoint(TRUNCATE)");
    const results = await Promise.all(Array.from({ length: 50 }, (_, n) => commit(() => insert.run(n).changes)));
    expect(results).toEqual(Array(50).fill(1));
    // One commit of the table's page(s), not 50 commits of at least one page each.
    expect(walFrames(db)).toBeLessThan(5);
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(50);
    db.close();
  });

  test("a group is at most maxGroupSize writes; the rest commit in the next", async () => {
    const db = openDatabase();
    const commit = createGroupCommit(db, { maxGroupSize: 10 });
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    db.pragma("wal_checkpoint(TRUNCATE)");
    await Promise.all(Array.from({ length: 50 }, (_, n) => commit(() => insert.run(n))));
    // Five commits of at least one page each.
    expect(walFrames(db)).toBeGreaterThanOrEqual(5);
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(50);
    db.close();
  });

  test("a failing write rolls back alone; the rest of its group commits", async () => {
    const db = openDatabase();
    const commit = createGroupCommit(db);
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    // Inserts 100 then fails on the duplicate 1: its savepoint undoes 100 too.
    const partial = db.transaction(() => {
      insert.run(100);
      insert.run(1);
    });
    const outcomes = await Promise.allSettled([commit(() => insert.run(1)), commit(partial), commit(() => insert.run(2))]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: "SQLITE_CONSTRAINT_PRIMARYKEY" });
    expect(db.prepare("SELECT n FROM t ORDER BY n").pluck().all()).toEqual([1, 2]);
    db.close();
  });

  test("while held, writes wait in the queue; released, they commit together", async () => {
    const db = openDatabase();
    const commit = createGroupCommit(db);
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    const count = () => db.prepare("SELECT count(*) FROM t").pluck().get();
    db.pragma("wal_checkpoint(TRUNCATE)");
    // Held after a write queued its group, and before the group runs.
    const first = commit(() => insert.run(1));
    commit.hold();
    // Several turns of the event loop: a held queue starts no group in any of them.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((n) => commit(() => insert.run(n)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(count()).toBe(0);
    expect(walFrames(db)).toBe(0);
    commit.release();
    await Promise.all([first, ...later]);
    expect(db.prepare("SELECT n FROM t ORDER BY n").pluck().all()).toEqual([1, 2, 3, 4]);
    // One commit for the four.
    expect(walFrames(db)).toBe(1);
    // Releasing what is not held changes nothing; writes go on committing.
    commit.release();
    await commit(() => insert.run(5));
    expect(count()).toBe(5);
    db.close();
  });

  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test("with a window, writes arriving over several turns while writes keep coming share one commit", async () => {
    const db = openDatabase();
    const commit = createGroupCommit(db, { windowMs: 1000 });
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    db.pragma("wal_checkpoint(TRUNCATE)");
    // After a quiet spell a write starts its group at once.
    await commit(() => insert.run(0));
    expect(walFrames(db)).toBe(1);
    const later: Promise<unknown>[] = [];
    for (let n = 1; n <= 3; n++) {
      later.push(commit(() => insert.run(n)));
      await nextTurn();
    }
    await Promise.all(later);
    // One commit for the three, not one a turn.
    expect(walFrames(db)).toBe(2);
    expect(db.prepare("SELECT n FROM t ORDER BY n").pluck().all()).toEqual([0, 1, 2, 3]);
    db.close();
  });

  test("a window ends early once enoughToStart writes wait", async () => {
    const db = openDatabase();
    const commit = createGroupCommit(db, { windowMs: 60_000, enoughToStart: 3 });
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    db.pragma("wal_checkpoint(TRUNCATE)");
    await commit(() => insert.run(0));
    const first = commit(() => insert.run(1));
    await nextTurn();
    const second = commit(() => insert.run(2));
    await nextTurn();
    const outcome = await Promise.race([Promise.all([first, second]).then(() => "committed"), sleep(200).then(() => "waiting")]);
    expect(outcome).toBe("waiting");
    await Promise.all([first, second, commit(() => insert.run(3))]);
    expect(walFrames(db)).toBe(2);
    db.close();
  });

  test("a write after a quiet spell longer than the window does not wait", async () => {
    const db = openDatabase();
    const commit = createGroupCommit(db, { windowMs: 500 });
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    await commit(() => insert.run(0));
    await sleep(600);
    const outcome = await Promise.race([commit(() => insert.run(1)).then(() => "committed"), sleep(250).then(() => "waiting")]);
    expect(outcome).toBe("committed");
    db.close();
  });

  test("writers that wait for each answer before writing again turn the windows off", async () => {
    const db = openDatabase();
    const commit = createGroupCommit(db, { windowMs: 200, quietMs: 60_000 });
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    // The first starts at once; the next three each wait out a window with nothing else in it.
    for (let n = 0; n < 4; n++) await commit(() => insert.run(n));
    // After those, none waits: eight in less than one window, where they would have taken eight.
    const started = performance.now();
    for (let n = 4; n < 12; n++) await commit(() => insert.run(n));
    expect(performance.now() - started).toBeLessThan(200);
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(12);
    db.close();
  });

  test("reads queued in one turn share one read transaction, and so one snapshot", async () => {
    const db = openDatabase();
    const other = new Database(join(temp.path, "group.db"));
    const read = createGroupCommit(db, { lock: "deferred" });
    const count = db.prepare("SELECT count(*) FROM t").pluck();
    const [first, second] = await Promise.all([
      read(() => {
        const seen = count.get();
        // Committed by another connection between the group's two reads.
        other.prepare("INSERT INTO t (n) VALUES (1)").run();
        return seen;
      }),
      read(() => count.get()),
    ]);
    expect([first, second]).toEqual([0, 0]);
    await expect(read(() => count.get())).resolves.toBe(1);
    other.close();
    db.close();
  });

  test("two creates racing for one code in a group: one is stored, the other hears DuplicateCodeError", async () => {
    const store = openSqliteStore({ filename: join(temp.path, "invites.db") });
    const first = draft();
    const second = draft({ code: first.code });
    const [a, b] = await Promise.allSettled([store.createInvite(first), store.createInvite(second)]);
    expect(a.status).toBe("fulfilled");
    expect(b.status === "rejected" && b.reason).toBeInstanceOf(DuplicateCodeError);
    await expect(store.findInviteByCode(first.namespace, first.code)).resolves.toEqual(first);
    await expect(store.findInviteById(second.namespace, second.id)).resolves.toBeUndefined();
    await store.close();
  });

  test("a group that cannot take the write lock fails whole, and stores nothing", async () => {
    const filename = join(temp.path, "invites.db");
    const store = openSqliteStore({ filename, busyTimeoutMs: 50 });
    const other = new Database(filename);
    other.prepare("BEGIN IMMEDIATE").run();
    const drafts = [draft(), draft(), draft()];
    const outcomes = await Promise.allSettled(drafts.map((d) => store.createInvite(d)));
    for (const outcome of outcomes) expect(outcome.status === "rejected" && outcome.reason).toBeInstanceOf(StoreUnavailableError);
    other.prepare("ROLLBACK").run();
    other.close();
    for (const d of drafts) await expect(store.findInviteById(d.namespace, d.id)).resolves.toBeUndefined();
    await expect(store.createInvite(drafts[0])).resolves.toMatchObject({ created: true });
    await store.close();
  });
});
