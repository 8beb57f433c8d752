import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config.js";
import { makeTempDir } from "../support/temp-dir.js";

test("defaults: port 8080 on loopback, the SQLite file under ./data, no keys, no CORS", () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    port: 8080,
    host: "127.0.0.1",
    database: { url: "./data/invites.db", poolSize: 10, statementTimeoutMs: 5000, connectTimeoutMs: 3000, migrate: true, commitWindowMs: 1, mmapBytes: 2 ** 30 },
    defaultTtlMs: 7 * 24 * 60 * 60 * 1000,
    corsOrigins: [],
    maxBodyBytes: 65536,
    http2MaxStreams: 100,
  });
  expect(config.apiKeys.size).toBe(0);
  expect(config.retentionMs).toBeUndefined();
});

test("durations and retention", () => {
  expect(loadConfig({ DEFAULT_TTL: "48h", RETENTION_DAYS: "30" })).toMatchObject({ defaultTtlMs: 48 * 3600_000, retentionMs: 30 * 86_400_000 });
  expect(() => loadConfig({ DEFAULT_TTL: "400d" })).toThrow("DEFAULT_TTL=400d: must be a duration like 30m, 48h or 7d, from 1m to 365d");
  expect(() => loadConfig({ MIGRATE_ON_START: "maybe" })).toThrow("MIGRATE_ON_START=maybe: must be true or false");
  expect(loadConfig({ SQLITE_COMMIT_WINDOW_MS: "0" }).database.commitWindowMs).toBe(0);
  expect(() => loadConfig({ SQLITE_COMMIT_WINDOW_MS: "101" })).toThrow("SQLITE_COMMIT_WINDOW_MS=101: must be a whole number from 0 to 100");
  expect(loadConfig({ SQLITE_MMAP_MB: "0" }).database.mmapBytes).toBe(0);
  expect(loadConfig({ SQLITE_MMAP_MB: "64" }).database.mmapBytes).toBe(64 * 2 ** 20);
  expect(() => loadConfig({ SQLITE_MMAP_MB: "2049" })).toThrow("SQLITE_MMAP_MB=2049: must be a whole number from 0 to 2048");
});

test("with keys it listens on every interface unless HOST says otherwise", () => {
  const keys = "0123456789abcdef0123:acme";
  expect(loadConfig({ INVITES_API_KEYS: keys }).host).toBe("0.0.0.0");
  expect(loadConfig({ INVITES_API_KEYS: keys, HOST: "127.0.0.1" }).host).toBe("127.0.0.1");
});

test("reads keys from the variable and the file together", () => {
  const dir = makeTempDir();
  const file = join(dir.path, "keys");
  writeFileSync(file, "# team keys\nfile-key-0123456789abcdef:beta\n\n");
  const config = loadConfig({ INVITES_API_KEYS: "env-key-0123456789abcdef:alpha", INVITES_API_KEYS_FILE: file });
  expect(config.apiKeys.lookup("env-key-0123456789abcdef")).toBe("alpha");
  expect(config.apiKeys.lookup("file-key-0123456789abcdef")).toBe("beta");
  expect(config.apiKeys.lookup("file-key-0123456789abcde")).toBeUndefined();
  dir.remove();
});

test.each([
  [{ PORT: "70000" }, "PORT=70000: must be a whole number from 0 to 65535"],
  [{ MAX_BODY_BYTES: "1.5" }, "MAX_BODY_BYTES=1.5: must be a whole number from 1024 to 16777216"],
  [{ HTTP2_MAX_STREAMS: "10" }, "HTTP2_MAX_STREAMS=10: must be a whole number from 100 to 4294967295"],
  [{ INVITES_API_KEYS: "no-namespace-0123456789" }, "INVITES_API_KEYS: entry 1 is not KEY:NAMESPACE"],
  [{ TLS_CERT_FILE: "/tmp/cert.pem" }, "TLS_CERT_FILE and TLS_KEY_FILE must be set together"],
  [{ INVITES_API_KEYS: "a-key-0123456789abcdef:../etc" }, "INVITES_API_KEYS: entry 1 names an invalid namespace (1-64 of A-Za-z0-9._-, starting with a letter or digit)"],
])("refuses %j", (env, message) => {
  expect(() => loadConfig(env)).toThrow(new ConfigError(message));
});
