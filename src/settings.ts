/**
 * Every setting: its environment variable, the command-line flag that
 * mirrors it, its default and what it does. The CLI's --help and the README's
 * table are written from this list.
 */
export interface Setting {
  env: string;
  flag: string;
  default: string;
  description: string;
}

export const settings: readonly Setting[] = [
  { env: "PORT", flag: "port", default: "8080", description: "the one port for every protocol (0 picks a free one)" },
  { env: "HOST", flag: "host", default: "127.0.0.1; 0.0.0.0 with API keys", description: "the interface to listen on; without API keys only loopback is allowed" },
  { env: "DATABASE_URL", flag: "database-url", default: "./data/invites.db", description: "postgres://… for PostgreSQL; sqlite:PATH or a plain path for SQLite" },
  { env: "DATABASE_POOL_SIZE", flag: "database-pool-size", default: "10", description: "PostgreSQL connections per replica" },
  { env: "DATABASE_STATEMENT_TIMEOUT_MS", flag: "database-statement-timeout-ms", default: "5000", description: "PostgreSQL statements running longer are cancelled (Unavailable)" },
  { env: "DATABASE_CONNECT_TIMEOUT_MS", flag: "database-connect-timeout-ms", default: "3000", description: "how long to wait for a PostgreSQL connection (Unavailable)" },
  { env: "SQLITE_COMMIT_WINDOW_MS", flag: "sqlite-commit-window-ms", default: "1", description: "SQLite: while writes keep coming, how long a write may wait to share its commit (0 to 100; 0: never)" },
  { env: "SQLITE_MMAP_MB", flag: "sqlite-mmap-mb", default: "1024", description: "SQLite: how much of the file, in MiB, reads reach through a memory map (0 to 2048; 0: none, reads go through a 16 MB page cache)" },
  { env: "MIGRATE_ON_START", flag: "migrate-on-start", default: "true", description: "PostgreSQL: apply pending migrations at start-up (SQLite always does)" },
  { env: "INVITES_API_KEYS", flag: "api-keys", default: "none", description: "KEY:NAMESPACE entries separated by commas or new lines (* for every namespace)" },
  { env: "INVITES_API_KEYS_FILE", flag: "api-keys-file", default: "none", description: "a file of the same entries, one per line, # comments" },
  { env: "CORS_ORIGINS", flag: "cors-origins", default: "none", description: "browser origins allowed to call, comma separated (* for any)" },
  { env: "MAX_BODY_BYTES", flag: "max-body-bytes", default: "65536", description: "the largest request body" },
  { env: "HTTP2_MAX_STREAMS", flag: "http2-max-streams", default: "100", description: "calls one HTTP/2 connection may have in flight at once (100 or more); its client queues the rest" },
  { env: "HTTP_KEEPALIVE_TIMEOUT_MS", flag: "http-keepalive-timeout-ms", default: "5000", description: "how long an idle HTTP/1.1 connection stays open; longer than a load balancer's idle timeout spares it reusing a closed one" },
  { env: "DEFAULT_TTL", flag: "default-ttl", default: "7d", description: "how long an invite lives when Create or Renew names no expiry (30m, 48h, 7d; 1m to 365d)" },
  { env: "RETENTION_DAYS", flag: "retention-days", default: "off", description: "delete invites expired, revoked or used up longer ago than this many days" },
  { env: "LEAN_PATH", flag: "lean-path", default: "true", description: "serve common unary calls on the lean path; false sends everything through connect-node" },
  { env: "LOG_LEVEL", flag: "log-level", default: "info", description: "debug, info, warn, error or silent" },
  { env: "SHUTDOWN_DELAY_MS", flag: "shutdown-delay-ms", default: "0", description: "on SIGTERM, report NOT_SERVING this long before refusing new connections" },
  { env: "SHUTDOWN_GRACE_MS", flag: "shutdown-grace-ms", default: "10000", description: "how long shutdown waits for calls in flight before cutting them" },
  { env: "TLS_CERT_FILE", flag: "tls-cert-file", default: "none", description: "serve HTTPS with this certificate (PEM): HTTP/2 and HTTP/1.1 by ALPN" },
  { env: "TLS_KEY_FILE", flag: "tls-key-file", default: "none", description: "the certificate's private key (PEM)" },
];
