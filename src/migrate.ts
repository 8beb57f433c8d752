import { ConfigError, loadConfig } from "./config.js";
import { openStore } from "./store/open-store.js";

/** Applies pending migrations to DATABASE_URL and exits: for deploy pipelines. */
async function main(): Promise<void> {
  const config = loadConfig();
  const store = await openStore({ ...config.database, migrate: true });
  await store.close();
  process.stderr.write("invites: the database schema is up to date\n");
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`invites: ${err instanceof ConfigError ? err.message : `migration failed: ${err.message}`}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  });
}
