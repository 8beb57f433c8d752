// An SQLite file of invites for the benchmarks, written in one transaction.
"use strict";
const Database = require("better-sqlite3");

/**
 * Fills `file` with `count` pending invites in namespace "default", spread
 * over 1,000 groups, with the schema of `dist` (a build folder). Returns a
 * code from the middle of the file, for reads.
 */
async function preload(dist, file, count) {
  const { openSqliteStore } = require(`${dist}/src/store/sqlite/sqlite-store.js`);
  const { generateInviteCode } = require(`${dist}/src/invites/invite-code.js`);
  const { newInviteId } = require(`${dist}/src/invites/invite-id.js`);
  // The store creates the schema; closed (and its checkpoint worker stopped) before the bulk load.
  await openSqliteStore({ filename: file }).close();
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  const insert = db.prepare(`INSERT OR IGNORE INTO invites (id, namespace, group_id, email, code, state, create_time, update_time,
    expire_time, inviter, role, metadata, max_uses, use_count) VALUES (?, 'default', ?, ?, ?, 'pending', ?, ?, ?, '', '', '{}', 1, 0)`);
  const start = Date.now() - count * 10;
  let probe;
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const code = generateInviteCode();
      if (i === Math.floor(count / 2)) probe = code;
      insert.run(newInviteId(start + i * 10), `group-${i % 1000}`, `user${i}@example.com`, code, start + i * 10, start + i * 10, Date.now() + 86400_000 * 300);
    }
  })();
  db.close();
  return probe;
}

module.exports = { preload };
