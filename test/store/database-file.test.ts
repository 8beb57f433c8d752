import Database from "better-sqlite3";
import { existsSync, fstatSync, linkSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shareDatabaseFile } from "../../src/store/sqlite/database-file.js";
import { NewerSchemaError } from "../../src/store/store.js";
import { sqliteMigrations } from "../../src/store/sqlite/migrations.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { makeTempDir } from "../support/temp-dir.js";

let temp: ReturnType<typeof makeTempDir>;
beforeEach(() => (temp = makeTempDir()));
afterEach(() => temp.remove());

/** Whether fd is still open on the file with this inode (a closed number may be reused). */
const openOn = (fd: number, ino: number) => {
  try {
    return fstatSync(fd).ino === ino;
  } catch {
    return false;
  }
};

test("one descriptor a file, whatever the path, closed when its last user lets go", () => {
  const filename = join(temp.path, "a.db");
  writeFileSync(filename, "");
  const link = join(temp.path, "b.db");
  linkSync(filename, link);
  const first = shareDatabaseFile(filename);
  const second = shareDatabaseFile(link);
  expect(second.fd).toBe(first.fd);
  const { ino } = fstatSync(first.fd);
  first.release();
  // Releasing twice counts once.
  first.release();
  expect(openOn(second.fd, ino)).toBe(true);
  second.release();
  expect(openOn(second.fd, ino)).toBe(false);
  // Shared again after the last release: a new descriptor.
  const third = shareDatabaseFile(filename);
  expect(openOn(third.fd, ino)).toBe(true);
  third.release();
});

const descriptorsOf = (path: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });
// Linux lists a process's descriptors; elsewhere there is nothing to look at.
const withFds = existsSync("/proc/self/fd") ? test : test.skip;

withFds("a closed store leaves no descriptor of its file open", async () => {
  const filename = join(temp.path, "invites.db");
  const store = openSqliteStore({ filename });
  // The connection's own and the one shared for syncing (the worker's opens when it starts).
  expect(descriptorsOf(filename).length).toBeGreaterThanOrEqual(2);
  await store.close();
  expect(descriptorsOf(filename)).toEqual([]);
});

withFds("a store that fails to open leaves no descriptor of its file open, and the file as it was", () => {
  const filename = join(temp.path, "newer.db");
  const newer = sqliteMigrations.length + 1;
  const made = new Database(filename);
  made.pragma("journal_mode = WAL");
  made.exec("CREATE TABLE future (x)");
  made.pragma(`user_version = ${newer}`);
  made.close();
  expect(() => openSqliteStore({ filename })).toThrow(NewerSchemaError);
  expect(() => openSqliteStore({ filename })).toThrow(`the database's schema is version ${newer}, newer than this build's ${sqliteMigrations.length}`);
  expect(descriptorsOf(filename)).toEqual([]);
  const after = new Database(filename, { readonly: true });
  expect(after.pragma("user_version", { simple: true })).toBe(newer);
  expect(after.prepare("SELECT name FROM sqlite_schema").pluck().all()).toEqual(["future"]);
  after.close();
});
