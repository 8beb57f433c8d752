// What a run ran on, so that results from different machines are not read as a change of code.
"use strict";
const { readFileSync } = require("node:fs");
const os = require("node:os");

/**
 * The processor, cores, kernel, Node and the idle driver. The same code has
 * given five times the requests a second on one machine of a kind as on
 * another (the raw node:http floor: 78,888 against 15,343 a second), and how
 * cheaply an idle core wakes (the cpuidle driver: none, haltpoll…) may change
 * what a request costs one at a time.
 */
function describeMachine() {
  let cpuidle = "unknown";
  try {
    cpuidle = readFileSync("/sys/devices/system/cpu/cpuidle/current_driver", "utf8").trim();
  } catch {
    // Not Linux, or no cpuidle: "unknown" says so.
  }
  return { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, kernel: os.release(), node: process.version, cpuidle };
}

module.exports = { describeMachine };
