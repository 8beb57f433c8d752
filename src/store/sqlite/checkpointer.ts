import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";

/** Stops a connection's writes and lets them go again (a group commit). */
export interface WriteGate {
  hold(): void;
  release(): void;
}

export interface Checkpointer {
  /** Stops the worker and waits for it to exit. */
  stop(): Promise<void>;
}

// The worker asks for writes to be held once at most this many frames are left to copy (≈ 1 MiB).
const nearlyDonePages = 256;
// Writes outpacing the copying (another process writing, a slow disk): the next tick tries again.
// Two of the passes follow the syncs before a hold.
const maxCatchUpPasses = 8;
// Syncs of the database file before writes are held: see startCheckpointer.
const flushesBeforeHold = 2;

// Inline, so it runs the same under ts-jest and from dist/. The driver's path
// comes from the main thread: an eval'd worker resolves modules from the cwd.
const workerSource = `
const { fdatasyncSync } = require("node:fs");
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const { filename, databaseFd, busyTimeoutMs, intervalMs, restartPages, nearlyDonePages, maxCatchUpPasses, flushesBeforeHold } = workerData;
const db = new Database(filename, { timeout: busyTimeoutMs, fileMustExist: true });
const pass = () => db.pragma("wal_checkpoint(PASSIVE)")[0];
// The WAL as it is now (a pass reports it as it was when the pass began); copies nothing.
const walNow = () => db.pragma("wal_checkpoint(NOOP)")[0];
const reportingErrors = (operation) => {
  try {
    operation();
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
};
let waitingForWrites = false;
const checkpoint = () => reportingErrors(() => {
  if (waitingForWrites) return;
  let flushes = 0;
  // Each pass copies what came during the one before, so each is shorter.
  for (let passes = 0; passes < maxCatchUpPasses; passes++) {
    // Busy: another connection is checkpointing.
    if (pass().busy) return;
    const { log, checkpointed } = walNow();
    // A small WAL needs no restart; one with every frame copied restarts at the next commit by itself.
    if (log < restartPages || checkpointed === log) return;
    if (log - checkpointed <= nearlyDonePages) {
      // SQLite syncs the database file only in a pass that copies every frame, the last one,
      // which writes wait for; so the pages the passes before it copied go to disk now, and
      // then those that the pass after the first flush copied.
      if (flushes < flushesBeforeHold) {
        fdatasyncSync(databaseFd);
        flushes++;
        continue;
      }
      waitingForWrites = true;
      parentPort.postMessage({ holdWrites: true });
      return;
    }
  }
});
const timer = setInterval(checkpoint, intervalMs);
parentPort.on("message", (message) => {
  if (message === "writesHeld") {
    // The group commit adds no frames now, so this pass copies the last of them and the next commit restarts the WAL.
    reportingErrors(pass);
    waitingForWrites = false;
    parentPort.postMessage({ lastPassDone: true });
    return;
  }
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Copies the WAL back into the database file from a worker thread, so that no
 * request waits for it. SQLite's automatic checkpoint runs inside whichever
 * COMMIT crosses 1,000 WAL pages, blocking the event loop while it copies
 * pages and syncs the file: about half the cost of an insert here (≈ 49 µs
 * against ≈ 24 µs without it, 32 inserts a transaction on a 100k-invite file).
 * A passive checkpoint never blocks readers or writers. Should the worker
 * fail, `onFailure` lets the store checkpoint on commit as SQLite does.
 *
 * Past `restartPages`, the worker runs passes back to back until little is
 * left to copy, then asks for `writes` to be held; its last pass copies what
 * is left, and the first commit after the release starts the WAL again from
 * its beginning. Writes wait for that pass, mostly its two fsyncs. The
 * database file's would write back every page copied since the last restart,
 * so the worker flushes those through `databaseFd` first, twice (holds of
 * 10–12 ms at 10,000 Creates a second; 5 ms after one flush; 1.9–3.4 ms after two).
 * The hold lasts `maxHoldMs` at most. After a failure the worker
 * stops, so that it and the commits' own checkpoints do not take turns.
 */
export function startCheckpointer(options: {
  filename: string;
  /** A descriptor of the database file, for syncing it outside SQLite; open until the worker has exited. */
  databaseFd: number;
  busyTimeoutMs: number;
  intervalMs: number;
  /** WAL frames past which the worker restarts the WAL, with the writer's help. */
  restartPages: number;
  /** How the worker stops this process's writes for its last pass, and lets them go again. */
  writes: WriteGate;
  /** The longest writes stay held, whatever becomes of the worker's last pass (default 50). */
  maxHoldMs?: number;
  /** Told how long each hold lasted, in seconds: the stall a write can meet. */
  onWritesHeld?: (seconds: number) => void;
  onFailure: (reason: string) => void;
}): Checkpointer {
  const { filename, databaseFd, busyTimeoutMs, intervalMs, restartPages, writes, maxHoldMs = 50, onWritesHeld, onFailure } = options;
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { driver: require.resolve("better-sqlite3"), filename, databaseFd, busyTimeoutMs, intervalMs, restartPages, nearlyDonePages, maxCatchUpPasses, flushesBeforeHold },
  });
  // A checkpoint cut short by exit is safe: the WAL stays valid and the next one redoes it.
  worker.unref();
  let stopping = false;
  let holdLimit: NodeJS.Timeout | undefined;
  let heldSince: number | undefined;
  const release = () => {
    clearTimeout(holdLimit);
    writes.release();
    if (heldSince === undefined) return;
    onWritesHeld?.((performance.now() - heldSince) / 1000);
    heldSince = undefined;
  };
  // Writes held now are let go when the worker exits.
  const halt = () => {
    stopping = true;
    worker.postMessage("stop");
  };
  const fail = (reason: string) => {
    if (!stopping) halt();
    onFailure(reason);
  };
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", (code) => {
      release();
      if (!stopping) onFailure(`checkpoint worker exited with code ${code}`);
      resolve();
    }),
  );
  worker.on("message", (message: { error?: string; holdWrites?: boolean; lastPassDone?: boolean }) => {
    if (message.error) fail(message.error);
    if (message.holdWrites && !stopping) {
      writes.hold();
      heldSince = performance.now();
      holdLimit = setTimeout(release, maxHoldMs);
      worker.postMessage("writesHeld");
    }
    if (message.lastPassDone) release();
  });
  worker.on("error", (err) => fail(err.message));
  return {
    async stop() {
      // Held until it exits: a process with nothing else to do would otherwise end mid-close.
      worker.ref();
      halt();
      await exited;
    },
  };
}

/**
 * Checkpoints move to a worker thread; SQLite's own, on commit, come back at
 * 1,000 pages if it fails. A passive checkpoint copies the frames that exist
 * when it starts, and the WAL restarts from its beginning only once every
 * frame is copied, which never happens while writes keep coming (the file
 * grew past 800 MiB in 15 s of Creates). So past `restartPages` the worker
 * catches up, then has the group commit hold its writes for one last short
 * pass (see startCheckpointer); the next commit restarts the WAL. SQLite's own
 * checkpoint stays as a backstop past `maxWalPages`, should the worker fall
 * behind: a commit copies what the worker left, blocking the event loop.
 */
export function offloadCheckpoints(
  db: Database.Database,
  writes: WriteGate,
  options: {
    filename: string;
    databaseFd: number;
    busyTimeoutMs: number;
    intervalMs: number;
    maxWalPages: number;
    restartPages: number;
    onWritesHeld?: (seconds: number) => void;
  },
): Checkpointer {
  const { filename, databaseFd, busyTimeoutMs, intervalMs, maxWalPages, restartPages, onWritesHeld } = options;
  db.pragma(`wal_autocheckpoint = ${maxWalPages}`);
  // A WAL grown under a burst of writes is cut back to this size once it is reset.
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  let fellBack = false;
  return startCheckpointer({
    filename,
    databaseFd,
    busyTimeoutMs,
    intervalMs,
    restartPages,
    writes,
    onWritesHeld,
    onFailure: (reason) => {
      if (fellBack || !db.open) return;
      fellBack = true;
      db.pragma("wal_autocheckpoint = 1000");
      process.emitWarning(`SQLite checkpoints moved back to commits: ${reason}`, { code: "INVITES_CHECKPOINT_WORKER" });
    },
  });
}
