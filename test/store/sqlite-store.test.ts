import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/open-store.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { insertColumns, toInsertValues } from "../../src/store/sqlite/invite-row.js";
import { migrate, sqliteMigrations, stateCheckAsComparisons } from "../../src/store/sqlite/migrations.js";
import { StoreUnavailableError } from "../../src/store/store.js";
import { makeTempDir } from "../support/temp-dir.js";
import { walCheckpointSequence } from "../support/wal.js";
import { draft } from "./invite-drafts.js";
import { describeStoreContract } from "./store-contract.js";

let dir: ReturnType<typeof makeTempDir>;

describeStoreContract("sqlite", {
  async open() {
    dir = makeTempDir();
    return openSqliteStore({ filename: join(dir.path, "invites.db") });
  },
  async reopen() {
    return openSqliteStore({ filename: join(dir.path, "invites.db") });
  },
  async cleanup() {
    dir.remove();
  },
});

describe("sqlite store file", () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (temp = makeTempDir()));
  afterEach(() => temp.remove());

  test("keeps invites across reopening, in WAL mode, at the latest schema version", async () => {
    const filename = join(temp.path, "nested", "invites.db");
    const invite = draft();
    const first = openSqliteStore({ filename });
    await first.createInvite(invite);
    await first.close();

    const second = openSqliteStore({ filename });
    await expect(second.findInviteById(invite.namespace, invite.id)).resolves.toEqual(invite);
    await second.close();

    const raw = new Database(filename, { readonly: true });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(raw.pragma("user_version", { simple: true })).toBe(sqliteMigrations.length);
    expect(raw.prepare("SELECT sql FROM sqlite_schema WHERE name = 'invites'").pluck().get()).toContain(stateCheckAsComparisons);
    raw.close();
  });

  test("answers a List at once rather than in the next turn's group of reads", async () => {
    const store = openSqliteStore({ filename: join(temp.path, "invites.db") });
    try {
      const invite = draft();
      await store.createInvite(invite);
      // Scheduled first, this turn comes before any group of reads the List could have joined.
      const nextTurn = new Promise((resolve) => setImmediate(() => resolve("next turn")));
      const page = store.listInvites({ namespace: invite.namespace, limit: 10, now: new Date() });
      await expect(Promise.race([page, nextTurn])).resolves.toEqual({ items: [invite], next: undefined });
    } finally {
      await store.close();
    }
  });

  test("copies the WAL into the file while it serves, without a commit doing it", async () => {
    const filename = join(temp.path, "invites.db");
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    // With the backstop out of reach, commits leave the file alone, so only the worker can grow it.
    const store = openSqliteStore({ filename, maxWalPages: 1_000_000 });
    try {
      const size = () => statSync(filename).size;
      const before = size();
      await Promise.all(Array.from({ length: 2000 }, (_, i) => store.createInvite(draft({ email: `w${i}@example.com` }))));
      const deadline = Date.now() + 5000;
      while (size() <= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(size()).toBeGreaterThan(before);
      // Had the worker failed, commits would have grown the file instead, with a warning.
      expect(warnings).toEqual([]);
    } finally {
      process.off("warning", onWarning);
      await store.close();
    }
  });

  test("keeps the WAL bounded while writes never pause", async () => {
    // Queued at once, the Creates commit in groups back to back, leaving the worker no pause to finish in.
    const walPagesAfterBurst = async (name: string, maxWalPages: number) => {
      const filename = join(temp.path, name);
      const store = openSqliteStore({ filename, maxWalPages });
      try {
        await Promise.all(Array.from({ length: 6000 }, (_, i) => store.createInvite(draft({ email: `b${i}@example.com` }))));
        const raw = new Database(filename, { readonly: true });
        const pageSize = raw.pragma("page_size", { simple: true }) as number;
        raw.close();
        return statSync(`${filename}-wal`).size / pageSize;
      } finally {
        await store.close();
      }
    };
    // Up to the limit, plus the frames of the group that crossed it.
    expect(await walPagesAfterBurst("bounded.db", 256)).toBeLessThan(256 * 4);
    // The control: with the backstop out of reach, the same burst leaves the WAL far larger.
    expect(await walPagesAfterBurst("unbounded.db", 1_000_000)).toBeGreaterThan(256 * 4);
  });

  test("the worker restarts the WAL under writes that never pause, holding them for its last pass", async () => {
    // Creates for a second, each batch queued as the last commits; returns the WAL's restarts and the rows stored.
    const restartsUnderWrites = async (name: string, walRestartPages: number) => {
      const filename = join(temp.path, name);
      // The commits' own checkpoint is out of reach: only the worker can restart the WAL.
      const store = openSqliteStore({ filename, maxWalPages: 1_000_000, walRestartPages, checkpointIntervalMs: 20 });
      try {
        await store.createInvite(draft({ email: "first@example.com" }));
        const before = walCheckpointSequence(filename);
        let created = 1;
        for (const deadline = Date.now() + 1000; Date.now() < deadline; ) {
          const batch = Array.from({ length: 100 }, (_, i) => store.createInvite(draft({ email: `r${created + i}@example.com` })));
          created += (await Promise.all(batch)).length;
        }
        const restarts = walCheckpointSequence(filename) - before;
        const raw = new Database(filename, { readonly: true });
        const stored = raw.prepare("SELECT count(*) FROM invites").pluck().get();
        raw.close();
        return { restarts, stored, created };
      } finally {
        await store.close();
      }
    };
    const workerRestarts = await restartsUnderWrites("worker-restart.db", 64);
    const control = await restartsUnderWrites("control.db", 1_000_000);
    // Nearly every tick of the worker (20 ms) finds more than 64 pages; without the hold, a restart
    // needs a pass to end between two commits, which is rare.
    expect(workerRestarts.restarts).toBeGreaterThanOrEqual(5);
    expect(control.restarts).toBeLessThan(workerRestarts.restarts / 2);
    expect(workerRestarts.stored).toBe(workerRestarts.created);
    expect(control.stored).toBe(control.created);
  });

  test("refuses WAL limits that are not positive whole numbers of pages, and an interval setInterval would not keep, before touching the disk", () => {
    const filename = join(temp.path, "not-made", "limit.db");
    for (const pages of [0, -1, 1.5, Number.NaN]) {
      expect(() => openSqliteStore({ filename, maxWalPages: pages })).toThrow("maxWalPages must be a positive integer");
      expect(() => openSqliteStore({ filename, walRestartPages: pages })).toThrow("walRestartPages must be a positive integer");
    }
    for (const ms of [0, 0.5, -1, Number.NaN, 2 ** 31, Number.POSITIVE_INFINITY]) {
      expect(() => openSqliteStore({ filename, checkpointIntervalMs: ms })).toThrow("checkpointIntervalMs must be from 1 to 2^31 - 1");
    }
    expect(existsSync(join(temp.path, "not-made"))).toBe(false);
  });

  test("DATABASE_URL's options give SQLite its commit window: a write just after another waits for it", async () => {
    const gapAfterOne = async (commitWindowMs: number) => {
      const store = await openStore({ url: `sqlite:${join(temp.path, `window-${commitWindowMs}.db`)}`, commitWindowMs });
      await store.createInvite(draft());
      const started = performance.now();
      await store.createInvite(draft());
      const gap = performance.now() - started;
      await store.close();
      return gap;
    };
    expect(await gapAfterOne(400)).toBeGreaterThan(200);
    expect(await gapAfterOne(0)).toBeLessThan(200);
  });

  // Linux shows a process's mappings; elsewhere there is nothing to look at.
  (existsSync("/proc/self/maps") ? test : test.skip)("DATABASE_URL's options give SQLite its memory map: reads map the file, or not with 0", async () => {
    const mappedAfterReading = async (mmapBytes: number | undefined) => {
      const filename = join(temp.path, `map-${mmapBytes}.db`);
      const store = await openStore({ url: `sqlite:${filename}`, mmapBytes });
      const invite = draft();
      await store.createInvite(invite);
      await expect(store.findInviteById(invite.namespace, invite.id)).resolves.toEqual(invite);
      // The WAL's index, the -shm file beside it, is mapped either way.
      const mapped = readFileSync("/proc/self/maps", "utf8").split("\n").some((line) => line.endsWith(` ${filename}`));
      await store.close();
      return mapped;
    };
    expect(await mappedAfterReading(undefined)).toBe(true);
    expect(await mappedAfterReading(0)).toBe(false);
    const filename = join(temp.path, "bad-map.db");
    for (const bytes of [-1, 0.5, 2 ** 31 + 1, Number.NaN]) {
      expect(() => openSqliteStore({ filename, mmapBytes: bytes })).toThrow("mmapBytes must be a whole number from 0 to 2^31");
    }
  });

  // The contract test closes a file; an in-memory store has no checkpoint worker, and its queue must drain the same way.
  test("closing an in-memory store first commits the writes already queued, and refuses later calls as unavailable", async () => {
    const store = openSqliteStore({ filename: ":memory:" });
    const queued = [draft(), draft(), draft()];
    const creates = queued.map((d) => store.createInvite(d));
    const closed = store.close();
    await expect(Promise.all(creates)).resolves.toEqual(queued.map((invite) => ({ invite, created: true })));
    await closed;
    await expect(store.createInvite(draft())).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.findInviteById(queued[0].namespace, queued[0].id)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    // Closing again is harmless.
    await expect(store.close()).resolves.toBeUndefined();
  });

  test("two connections to one file share invites and settle duplicates in the database", async () => {
    const filename = join(temp.path, "invites.db");
    const a = openSqliteStore({ filename });
    const b = openSqliteStore({ filename });
    const fromA = await a.createInvite(draft({ email: "shared@example.com" }));
    const fromB = await b.createInvite(draft({ email: "shared@example.com" }));
    expect(fromB).toEqual({ invite: fromA.invite, created: false });
    await a.close();
    await b.close();
  });

  const insertSql = `INSERT INTO invites (${insertColumns}) VALUES (${insertColumns.split(", ").map(() => "?").join(", ")})`;
  // With no IN list left in the CHECK, an insert builds no temporary b-tree: the point of schema version 2.
  const insertOpcodes = (db: Database.Database) => (db.prepare(`EXPLAIN ${insertSql}`).all(...toInsertValues(draft())) as { opcode: string }[]).map((row) => row.opcode);
  const schemaVersion1File = (filename: string) => {
    const v1 = new Database(filename);
    v1.pragma("journal_mode = WAL");
    v1.exec(sqliteMigrations[0] as string);
    v1.pragma("user_version = 1");
    return v1;
  };

  test("the connection that moves a file to schema version 2 uses the new CHECK itself", () => {
    const db = schemaVersion1File(join(temp.path, "v1.db"));
    expect(insertOpcodes(db)).toContain("OpenEphemeral");
    migrate(db);
    expect(insertOpcodes(db)).not.toContain("OpenEphemeral");
    db.close();
  });

  test("moves a file of schema version 1 to the state CHECK as comparisons, keeping its rows and its constraints", async () => {
    const filename = join(temp.path, "v1.db");
    const v1 = schemaVersion1File(filename);
    const insert = v1.prepare(insertSql);
    const invites = (["pending", "accepted", "revoked", "expired"] as const).map((state) => draft({ state }));
    for (const invite of invites) insert.run(...toInsertValues(invite));
    v1.prepare("INSERT INTO acceptances (invite_id, user_id, email, accept_time) VALUES (?, 'u1', '', 1)").run(invites[1].id);
    // Left open across the migration: it must read the new schema, not keep the one it loaded.
    const onlooker = new Database(filename);
    expect(onlooker.prepare("SELECT count(*) AS n FROM invites").get()).toEqual({ n: 4 });

    await openSqliteStore({ filename }).close();

    const tableSql = () => (onlooker.prepare("SELECT sql FROM sqlite_schema WHERE name = 'invites'").get() as { sql: string }).sql;
    expect(tableSql()).toContain(stateCheckAsComparisons);
    expect(tableSql()).not.toContain("state IN");
    expect(onlooker.pragma("user_version", { simple: true })).toBe(2);
    expect(onlooker.pragma("integrity_check", { simple: true })).toBe("ok");
    const stored = onlooker.prepare("SELECT id, state FROM invites ORDER BY seq").all();
    expect(stored).toEqual(invites.map(({ id, state }) => ({ id, state })));
    expect(onlooker.prepare("SELECT invite_id FROM acceptances").all()).toEqual([{ invite_id: invites[1].id }]);
    // The rewritten CHECK still refuses a state outside the four, through the connection opened before.
    expect(() => onlooker.prepare(insertSql).run(...toInsertValues(draft({ state: "archived" as "pending" })))).toThrow(/CHECK constraint failed/);
    expect(insertOpcodes(onlooker)).not.toContain("OpenEphemeral");
    onlooker.close();
    v1.close();
  });

  test("uses an index for code lookups and every list filter", async () => {
    const filename = join(temp.path, "invites.db");
    await openSqliteStore({ filename }).close();
    const db = new Database(filename, { readonly: true });
    const plan = (sql: string) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((row) => (row as { detail: string }).detail).join("; ");
    const order = "ORDER BY create_time DESC, seq DESC LIMIT 10";
    expect(plan("SELECT * FROM invites WHERE namespace = 'n' AND code = 'c'")).toMatch(/USING INDEX/);
    // Create's lookup of the pending invite must be a point lookup in the partial unique index.
    const pending = "namespace = 'n' AND group_id = 'g' AND email = 'e' AND state = 'pending' AND email <> ''";
    expect(plan(`SELECT * FROM invites WHERE ${pending}`)).toMatch(/USING INDEX invites_pending_key/);
    expect(plan(`UPDATE invites SET state = 'expired' WHERE ${pending} AND expire_time <= 5`)).toMatch(/USING INDEX invites_pending_key/);
    for (const where of ["", "AND group_id = 'g'", "AND email = 'e'", "AND group_id = 'g' AND email = 'e'", "AND state = 'revoked'"]) {
      const detail = plan(`SELECT * FROM invites WHERE namespace = 'n' ${where} ${order}`);
      expect(detail).toMatch(/USING (COVERING )?INDEX/);
      expect(detail).not.toMatch(/SCAN invites(?! USING)/);
    }
    db.close();
  });
});
