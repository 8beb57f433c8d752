// Loaded by the "postgres" jest project: test servers then run on fresh PostgreSQL databases.
process.env.INVITES_TEST_STORE = "postgres";
