import { jsonString, needsEscape } from "./codec/json-string.js";

export type LogFields = Record<string, unknown>;

/** Callers never pass invite codes, API keys or request bodies. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const logLevels = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LogDestination {
  write(line: string): unknown;
}

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/**
 * JSON lines: level, ISO time, the fields, then the message. Written by hand
 * because a request line is written on every call: string and number fields
 * go straight into the line, each after its `,"name":` made once, which
 * costs half of JSON.stringify of the whole line (1.2 against 2.4 µs for a
 * request line, bench/observability-cost.js). Fields that are undefined are
 * left out, as JSON.stringify leaves them.
 */
export function createLogger(level: LogLevel = "info", destination: LogDestination = stderrDestination()): Logger {
  const at = (label: Exclude<LogLevel, "silent">) =>
    rank[label] < rank[level]
      ? () => undefined
      : (message: string, fields: LogFields = {}) => {
          let line = `{"level":"${label}","time":"${isoNow()}"`;
          for (const name of Object.keys(fields)) {
            const value = fields[name];
            if (name === "level" || name === "time" || name === "msg") continue;
            if (typeof value === "string") line += needsEscape(value) ? keyOf(name) + JSON.stringify(value) : `${keyOf(name)}"${value}"`;
            else if (typeof value === "number" && Number.isFinite(value)) line += keyOf(name) + String(value);
            else if (value !== undefined) {
              const json = JSON.stringify(value) as string | undefined;
              if (json !== undefined) line += keyOf(name) + json;
            }
          }
          destination.write(`${line},"msg":${jsonString(message)}}\n`);
        };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

// Field names come from the code, never from input, so they are few.
const keys = new Map<string, string>();

/** A field's `,"name":`, made once per name. */
function keyOf(name: string): string {
  let key = keys.get(name);
  if (key === undefined) keys.set(name, (key = `,${jsonString(name)}:`));
  return key;
}

let lastMs = Number.NaN;
let lastIso = "";

/** The time in ISO form, formatted once per millisecond: the lines of a busy turn share it. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

let stderr: LogDestination | undefined;

/**
 * How long lines wait to share a write (longer while the event loop is busy). One request at a time, a
 * write per turn of the event loop was a write per line: a JSON Read at
 * 4,000 a second cost 200 µs of CPU with it, 190.5 with a write every 10 ms.
 */
const defaultFlushAfterMs = 10;
/** Or until this much waits, so that a burst is written as it comes. */
const defaultMaxPendingChars = 64 * 1024;

export interface BatchedLines extends LogDestination {
  /** Writes what waits, now. */
  flush(): void;
}

/** Gathers lines and hands them to `write` together: `flushAfterMs` after the first, or once `maxPendingChars` wait. */
export function batchLines(write: (chunk: string) => void, options: { flushAfterMs?: number; maxPendingChars?: number } = {}): BatchedLines {
  const { flushAfterMs = defaultFlushAfterMs, maxPendingChars = defaultMaxPendingChars } = options;
  let pending = "";
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const chunk = pending;
    pending = "";
    if (chunk !== "") write(chunk);
  };
  return {
    write(line) {
      pending += line;
      if (pending.length >= maxPendingChars) flush();
      // Unreferenced: waiting lines never keep the process alive; its exit writes them.
      else timer ??= setTimeout(flush, flushAfterMs).unref();
    },
    flush,
  };
}

/** stderr, in batches (see batchLines); what is waiting is written when the process exits. One per process. */
function stderrDestination(): LogDestination {
  if (stderr) return stderr;
  const lines = batchLines((chunk) => process.stderr.write(chunk));
  // A log reader that went away (EPIPE) must not take the service down with it.
  process.stderr.on("error", () => undefined);
  process.once("exit", lines.flush);
  return (stderr = lines);
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** An error's message with quoted values blanked: database errors may quote input. */
export function safeErrorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'");
}
