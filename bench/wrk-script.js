// wrk scripts and run names shared by run.js and compare.js.
"use strict";

let runs = 0;
/** A name unique to each wrk run, passed as BENCH_RUN, so that a run's Creates and Accepts never repeat an earlier run's. */
const wrkRunName = () => `${process.pid}r${++runs}`;

/** A wrk script POSTing `bodyExpr`, a Lua expression that may use `run` (BENCH_RUN) and `n` (the request's number in the run). */
const luaPost = (headers, bodyExpr) => `
local n = 0
local run = os.getenv("BENCH_RUN")
local headers = { ${Object.entries(headers).map(([k, v]) => `["${k}"] = "${v}"`).join(", ")} }
request = function()
  n = n + 1
  return wrk.format("POST", nil, headers, ${bodyExpr})
end
`;

module.exports = { luaPost, wrkRunName };
