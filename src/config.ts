import { readFileSync } from "node:fs";
import { parseApiKeys, type ApiKeys } from "./access/api-keys.js";
import type { TlsFiles } from "./http/one-port-server.js";
import { logLevels, type LogLevel } from "./logger.js";
import { defaultDatabaseUrl, type DatabaseOptions } from "./store/open-store.js";

export interface Config {
  port: number;
  host: string;
  database: DatabaseOptions;
  apiKeys: ApiKeys;
  corsOrigins: string[];
  maxBodyBytes: number;
  /** Calls one HTTP/2 connection may have in flight (SETTINGS_MAX_CONCURRENT_STREAMS). */
  http2MaxStreams: number;
  /** How long an idle HTTP/1.1 connection stays open (Node's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  shutdownGraceMs: number;
  /** How long readiness reports NOT_SERVING before new connections are refused. */
  shutdownDelayMs: number;
  logLevel: LogLevel;
  /** Serve common unary calls on the lean path (false: everything through connect-node). */
  leanPath: boolean;
  /** How long an invite lives when Create or Renew names no expiry. */
  defaultTtlMs: number;
  /** Purge invites revoked, used up or expired longer ago than this; undefined: keep them. */
  retentionMs?: number;
  tls?: TlsFiles;
}

/** A setting that cannot work; its message is one line naming the setting. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads the configuration from environment variables (see the README). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const apiKeys = loadApiKeys(env);
  const host = env.HOST || (apiKeys.size > 0 ? "0.0.0.0" : "127.0.0.1");
  if (apiKeys.size === 0 && !isLoopback(host)) {
    throw new ConfigError(`HOST=${host}: without API keys the server only listens on loopback; set INVITES_API_KEYS or INVITES_API_KEYS_FILE`);
  }
  const certFile = env.TLS_CERT_FILE;
  const keyFile = env.TLS_KEY_FILE;
  if (Boolean(certFile) !== Boolean(keyFile)) throw new ConfigError("TLS_CERT_FILE and TLS_KEY_FILE must be set together");
  return {
    port: integer(env, "PORT", 8080, 0, 65535),
    host,
    database: {
      url: env.DATABASE_URL || defaultDatabaseUrl,
      poolSize: integer(env, "DATABASE_POOL_SIZE", 10, 1, 1000),
      statementTimeoutMs: integer(env, "DATABASE_STATEMENT_TIMEOUT_MS", 5000, 100, 600_000),
      connectTimeoutMs: integer(env, "DATABASE_CONNECT_TIMEOUT_MS", 3000, 100, 600_000),
      migrate: boolean(env, "MIGRATE_ON_START", true),
      commitWindowMs: integer(env, "SQLITE_COMMIT_WINDOW_MS", 1, 0, 100),
      mmapBytes: integer(env, "SQLITE_MMAP_MB", 1024, 0, 2048) * 2 ** 20,
    },
    apiKeys,
    corsOrigins: (env.CORS_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean),
    maxBodyBytes: integer(env, "MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024),
    // Below 100, a client's first calls are refused: clients assume 100 until the server's settings arrive.
    http2MaxStreams: integer(env, "HTTP2_MAX_STREAMS", 100, 100, 2 ** 32 - 1),
    keepAliveTimeoutMs: integer(env, "HTTP_KEEPALIVE_TIMEOUT_MS", 5000, 100, 3_600_000),
    shutdownGraceMs: integer(env, "SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    shutdownDelayMs: integer(env, "SHUTDOWN_DELAY_MS", 0, 0, 600_000),
    logLevel: oneOf(env, "LOG_LEVEL", logLevels, "info"),
    leanPath: boolean(env, "LEAN_PATH", true),
    defaultTtlMs: duration(env, "DEFAULT_TTL", "7d"),
    retentionMs: integer(env, "RETENTION_DAYS", 0, 0, 36_500) * day || undefined,
    tls: certFile && keyFile ? { cert: readSetting("TLS_CERT_FILE", certFile), key: readSetting("TLS_KEY_FILE", keyFile) } : undefined,
  };
}

function loadApiKeys(env: Record<string, string | undefined>): ApiKeys {
  const sources = [{ text: env.INVITES_API_KEYS ?? "", source: "INVITES_API_KEYS" }];
  const file = env.INVITES_API_KEYS_FILE;
  if (file) sources.push({ text: readSetting("INVITES_API_KEYS_FILE", file).toString("utf8"), source: `INVITES_API_KEYS_FILE=${file}` });
  try {
    return parseApiKeys(...sources);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function readSetting(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${name}=${path}: ${(err as NodeJS.ErrnoException).code ?? "cannot be read"}`);
  }
}

function oneOf<T extends string>(env: Record<string, string | undefined>, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!allowed.includes(raw as T)) throw new ConfigError(`${name}=${raw}: must be one of ${allowed.join(", ")}`);
  return raw as T;
}

function boolean(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(`${name}=${raw}: must be true or false`);
}

function integer(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw}: must be a whole number from ${min} to ${max}`);
  }
  return value;
}

const day = 24 * 60 * 60 * 1000;
const units: Record<string, number> = { s: 1000, m: 60 * 1000, h: 60 * 60 * 1000, d: day };

/** A duration like 90s, 30m, 48h or 7d; at least a minute and at most 365 days. */
function duration(env: Record<string, string | undefined>, name: string, fallback: string): number {
  const raw = env[name] || fallback;
  const match = /^(\d+)([smhd])$/.exec(raw);
  const ms = match ? Number(match[1]) * units[match[2]] : NaN;
  if (!(ms >= 60 * 1000 && ms <= 365 * day)) {
    throw new ConfigError(`${name}=${raw}: must be a duration like 30m, 48h or 7d, from 1m to 365d`);
  }
  return ms;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
