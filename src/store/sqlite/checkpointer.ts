import { Worker } from "node:worker_threads";

/** Stops a connection's writes and lets them go again (a group commit). */
export interface WriteGate {
  hold(): void;
  release(): void;
}

// The worker asks for writes to stop once at most this many frames are left to copy (≈ 1 MiB).
const nearlyDonePages = 256;
const maxHoldMs = 50;

export interface Checkpointer {
  /** Stops the worker and waits for it to exit. */
  stop(): Promise<void>;
}

// Inline, so it runs the same under ts-jest and from dist/. The driver's path
// comes from the main thread: an eval'd worker resolves modules from the cwd.
const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const { filename, busyTimeoutMs, intervalMs, restartPages, nearlyDonePages } = workerData;
const db = new Database(filename, { timeout: busyTimeoutMs, fileMustExist: true });
const pass = () => db.pragma("wal_checkpoint(PASSIVE)")[0];
const reportingErrors = (operation) => {
  try {
    operation();
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
};
let waitingForHold = false;
let lastAskedAt = -1;
const checkpoint = () => reportingErrors(() => {
  if (waitingForHold) return;
  let { log, checkpointed } = pass();
  if (log < restartPages || log === lastAskedAt) return;
  // A pass copies the frames there were when it began; the next copies those
  // that came during it, and so on, each pass shorter than the one before.
  for (let copied = checkpointed, i = 0; copied > nearlyDonePages; i++) {
    if (i === 6) return; // writes outpace the copying; the next tick tries again
    const before = checkpointed;
    ({ log, checkpointed } = pass());
    copied = checkpointed - before;
  }
  waitingForHold = true;
  lastAskedAt = log;
  parentPort.postMessage({ nearlyDone: true });
});
const timer = setInterval(checkpoint, intervalMs);
parentPort.on("message", (message) => {
  if (message === "held") {
    // No commit can add frames now, so this pass copies the last of them: the next commit restarts the WAL.
    reportingErrors(pass);
    waitingForHold = false;
    parentPort.postMessage({ finished: true });
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
 * Past `restartPages`, the worker runs passes back to back until one copies
 * little (each copies what came during the last), then asks for `writes` to
 * be held; its last pass copies every frame, and the first commit after the
 * release starts the WAL again from its beginning. Writes wait for that pass
 * only (3–12 ms here, mostly its two fsyncs), never longer than `maxHoldMs`.
 */
export function startCheckpointer(options: {
  filename: string;
  busyTimeoutMs: number;
  intervalMs: number;
  /** WAL frames past which the worker restarts the WAL, with the writer's help. */
  restartPages: number;
  /** How the worker stops this process's writes for its last pass, and lets them go again. */
  writes: WriteGate;
  onFailure: (reason: string) => void;
}): Checkpointer {
  const { filename, busyTimeoutMs, intervalMs, restartPages, writes, onFailure } = options;
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { driver: require.resolve("better-sqlite3"), filename, busyTimeoutMs, intervalMs, restartPages, nearlyDonePages },
  });
  // A checkpoint cut short by exit is safe: the WAL stays valid and the next one redoes it.
  worker.unref();
  let stopping = false;
  let holdLimit: NodeJS.Timeout | undefined;
  const release = () => {
    clearTimeout(holdLimit);
    writes.release();
  };
  const exited = new Promise<void>((resolve) =>
    worker.once("exit", (code) => {
      release();
      if (!stopping) onFailure(`checkpoint worker exited with code ${code}`);
      resolve();
    }),
  );
  worker.on("message", (message: { error?: string; nearlyDone?: boolean; finished?: boolean }) => {
    if (message.error) onFailure(message.error);
    if (message.nearlyDone && !stopping) {
      writes.hold();
      // Writes wait at most this long, whatever becomes of the worker's pass.
      holdLimit = setTimeout(release, maxHoldMs);
      worker.postMessage("held");
    }
    if (message.finished) release();
  });
  worker.on("error", (err) => onFailure(err.message));
  return {
    async stop() {
      stopping = true;
      release();
      // Held until it exits: a process with nothing else to do would otherwise end mid-close.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
