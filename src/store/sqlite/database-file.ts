import { closeSync, openSync, statSync } from "node:fs";

/** A read-only descriptor of a database file, shared by every store of this process on that file. */
export interface SharedDatabaseFile {
  fd: number;
  /** Lets go of it; the last store to let go closes it. Call only after closing the store's connections. */
  release(): void;
}

const shared = new Map<string, { fd: number; users: number }>();

/**
 * A descriptor on which to fdatasync the database file outside SQLite (see
 * startCheckpointer). Closing any descriptor of a file drops every POSIX lock
 * this process holds on it, SQLite's included; so each file gets one,
 * found by device and inode before anything is opened, and it stays open
 * while any store of this process uses the file.
 */
export function shareDatabaseFile(filename: string): SharedDatabaseFile {
  const { dev, ino } = statSync(filename);
  const key = `${dev}:${ino}`;
  const entry = shared.get(key) ?? { fd: openSync(filename, "r"), users: 0 };
  shared.set(key, entry);
  entry.users++;
  const { fd } = entry;
  let released = false;
  return {
    fd,
    release() {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      shared.delete(key);
      closeSync(fd);
    },
  };
}
