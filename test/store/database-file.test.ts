import { existsSync, fstatSync, linkSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shareDatabaseFile } from "../../src/store/sqlite/database-file.js";
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

// Linux lists a process's descriptors; elsewhere there is nothing to look at.
(existsSync("/proc/self/fd") ? test : test.skip)("a closed store leaves no descriptor of its file open", async () => {
  const filename = join(temp.path, "invites.db");
  const descriptorsOf = (path: string) =>
    readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  const store = openSqliteStore({ filename });
  // The connection's own and the one shared for syncing (the worker's opens when it starts).
  expect(descriptorsOf(filename).length).toBeGreaterThanOrEqual(2);
  await store.close();
  expect(descriptorsOf(filename)).toEqual([]);
});
