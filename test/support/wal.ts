import { closeSync, openSync, readSync } from "node:fs";

/** The checkpoint sequence number in a WAL file's header, which SQLite increments at every restart of the WAL. */
export function walCheckpointSequence(filename: string): number {
  const header = Buffer.alloc(32);
  const fd = openSync(`${filename}-wal`, "r");
  try {
    readSync(fd, header, 0, 32, 0);
  } finally {
    closeSync(fd);
  }
  return header.readUInt32BE(12);
}
