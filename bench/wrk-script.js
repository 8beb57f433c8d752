// wrk scripts and run names shared by run.js and compare.js.
"use strict";

let runs = 0;
/** A name unique to each wrk run, passed as BENCH_RUN, so that a run's Creates and Accepts never repeat an earlier run's. */
const wrkRunName = () => `${process.pid}r${++runs}`;

/**
 * A wrk script POSTing `bodyExpr`, a Lua expression that may use `run`
 * (BENCH_RUN), `n` (the request's number in the run) and `scattered(n)`:
 * nine digits, one-to-one with n but in no order, for emails and user ids,
 * which in real use each land on a page of their own of an index.
 */
const luaPost = (headers, bodyExpr) => `
local n = 0
local run = os.getenv("BENCH_RUN")
-- n * 387420489 mod 10^9 is one-to-one (the factor is odd and not a multiple of 5), exact in Lua's doubles for n < 2^23.
local function scattered(n)
  return string.format("%09d", (n * 387420489) % 1000000000)
end
local headers = { ${Object.entries(headers).map(([k, v]) => `["${k}"] = "${v}"`).join(", ")} }
request = function()
  n = n + 1
  return wrk.format("POST", nil, headers, ${bodyExpr})
end
`;

module.exports = { luaPost, wrkRunName };
