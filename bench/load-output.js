// What h2load and wrk print, read the same way by run.js and compare.js.
"use strict";

/** Requests per second and failed answers (failed requests and non-2xx statuses) from h2load's or wrk's output. */
function loadResult(out) {
  const h2load = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out);
  if (h2load) {
    const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0);
    const statuses = /status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
    return { rps: Number(h2load[1]), errors: failed + (statuses ? Number(statuses[1]) + Number(statuses[2]) : 0) };
  }
  const wrk = /Requests\/sec:\s+([\d.]+)/.exec(out);
  return { rps: Number(wrk?.[1] ?? 0), errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) };
}

module.exports = { loadResult };
