// Loaded by the "connect-node" jest project: test servers serve every call through connect-node.
process.env.INVITES_TEST_LEAN_PATH = "false";
