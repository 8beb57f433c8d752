import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { makeTempDir } from "./temp-dir.js";

/** The server PostgreSQL tests create their databases on. */
export const postgresAdminUrl = process.env.INVITES_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** A DATABASE_URL for the service. */
  url: string;
  remove(): Promise<void>;
}

/** Which store the end-to-end tests run on: set by the jest project. */
export function testStoreKind(): "sqlite" | "postgres" {
  return process.env.INVITES_TEST_STORE === "postgres" ? "postgres" : "sqlite";
}

/** A fresh, empty database of the kind this test run uses. */
export function createTestDatabase(): Promise<TestDatabase> {
  return testStoreKind() === "postgres" ? createPostgresDatabase() : Promise.resolve(createSqliteDatabase());
}

export function createSqliteDatabase(): TestDatabase {
  const dir = makeTempDir();
  return { url: `sqlite:${join(dir.path, "invites.db")}`, remove: async () => dir.remove() };
}

/** A new PostgreSQL database, dropped (even with connections open) by remove(). */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `invites_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), remove: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresAdminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
