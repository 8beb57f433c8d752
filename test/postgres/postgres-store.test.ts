import pg from "pg";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import { postgresMigrations } from "../../src/store/postgres/migrations.js";
import { NewerSchemaError } from "../../src/store/store.js";
import { describeStoreContract } from "../store/store-contract.js";
import { createPostgresDatabase, type TestDatabase } from "../support/test-database.js";

let database: TestDatabase;
beforeAll(async () => (database = await createPostgresDatabase()));
afterAll(() => database.remove());

async function sql<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

describeStoreContract("postgres", {
  open: () => openPostgresStore({ url: database.url, poolSize: 60 }),
  reopen: () => openPostgresStore({ url: database.url }),
  async cleanup() {
    await sql("TRUNCATE invites, acceptances RESTART IDENTITY CASCADE");
  },
});

describe("postgres migrations", () => {
  test("replicas opening together migrate once", async () => {
    const fresh = await createPostgresDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url: fresh.url })));
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    const { rows } = await client.query("SELECT version FROM schema_migrations ORDER BY version");
    await client.end();
    expect(rows.map((r) => r.version)).toEqual(postgresMigrations.map((_, i) => i + 1));
    await Promise.all(stores.map((s) => s.close()));
    await fresh.remove();
  });

  test("refuses a database whose schema is newer than this build's, and leaves it as it was", async () => {
    const fresh = await createPostgresDatabase();
    await (await openPostgresStore({ url: fresh.url })).close();
    const newer = postgresMigrations.length + 1;
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [newer]);
    await expect(openPostgresStore({ url: fresh.url })).rejects.toThrow(NewerSchemaError);
    await expect(openPostgresStore({ url: fresh.url })).rejects.toThrow(`the database's schema is version ${newer}, newer than this build's ${postgresMigrations.length}`);
    const { rows } = await client.query("SELECT max(version) AS version FROM schema_migrations");
    expect(rows[0].version).toBe(newer);
    await client.end();
    await fresh.remove();
  });

  test("uses an index for code lookups and every list filter", async () => {
    const store = await openPostgresStore({ url: database.url });
    await store.close();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // Enough rows, in enough namespaces, for the planner to prefer indexes as it would in production.
      await client.query(`
        INSERT INTO invites (id, namespace, group_id, email, code, state, create_time, update_time, inviter, role, metadata, max_uses, use_count)
        SELECT gen_random_uuid(), 'ns' || (i % 200), 'g' || (i % 50), 'u' || i || '@example.com', 'CODE' || i,
               (ARRAY['pending', 'accepted', 'revoked', 'expired'])[1 + i % 4], now(), now(), '', '', '{}', 1, 0
        FROM generate_series(1, 20000) AS i`);
      await client.query("ANALYZE invites");
      const explain = async (query: string) => (await client.query(`EXPLAIN ${query}`)).rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(await explain("SELECT * FROM invites WHERE namespace = 'ns1' AND code = 'CODE1'")).toMatch(/Index Scan using invites_code_key/);
      const order = "ORDER BY create_time DESC, seq DESC LIMIT 10";
      for (const where of ["", "AND group_id = 'g1'", "AND email = 'u1@example.com'", "AND state = 'revoked'"]) {
        const plan = await explain(`SELECT * FROM invites WHERE namespace = 'ns1' ${where} ${order}`);
        expect(plan).toMatch(/Index Scan (using|on) invites_/);
        expect(plan).not.toMatch(/Seq Scan/);
      }
    } finally {
      await client.query("TRUNCATE invites, acceptances RESTART IDENTITY CASCADE");
      await client.end();
    }
  });
});
