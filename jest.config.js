const { Client } = require("pg");

const adminUrl = process.env.INVITES_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const base = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": "ts-jest" },
  // Generated and source files import siblings with a .js suffix (Node16 resolution).
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
};

/** Whether the PostgreSQL tests can run; without a server they are skipped, except under CI. */
async function postgresReachable() {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (err) {
    if (process.env.CI === "true") throw new Error(`PostgreSQL is required under CI but ${adminUrl} is unreachable: ${err.message}`);
    console.warn(`Skipping the PostgreSQL tests: cannot connect to ${adminUrl} (${err.message}); set INVITES_TEST_POSTGRES_URL.`);
    return false;
  }
}

/** @returns {Promise<import('jest').Config>} */
module.exports = async () => {
  const postgres = await postgresReachable();
  return {
    globalSetup: "<rootDir>/test/global-setup.ts",
    testTimeout: 30000,
    projects: [
      {
        ...base,
        displayName: "sqlite",
        roots: ["<rootDir>/test"],
        testPathIgnorePatterns: ["/postgres/"],
      },
      {
        ...base,
        displayName: "connect-node",
        roots: ["<rootDir>/test"],
        // Every protocol test once more with the lean path off, so both paths answer alike.
        testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
        setupFiles: ["<rootDir>/test/support/without-lean-path.ts"],
      },
      ...(postgres
        ? [
            {
              ...base,
              displayName: "postgres",
              roots: ["<rootDir>/test"],
              // The store contract and replica tests, and the end-to-end suite once more on PostgreSQL.
              testMatch: ["<rootDir>/test/postgres/**/*.test.ts", "<rootDir>/test/e2e/**/*.test.ts"],
              setupFiles: ["<rootDir>/test/support/use-postgres.ts"],
            },
          ]
        : []),
    ],
  };
};
