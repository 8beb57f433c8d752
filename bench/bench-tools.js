// What the benchmark scripts share: finding and installing tools, and running main.
"use strict";
const { execFileSync, spawnSync } = require("node:child_process");
const { rmSync } = require("node:fs");

function have(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;
}

/** Installs Debian packages, saying why. */
function aptInstall(why, packages) {
  console.log(`installing ${why} from Debian's packages`);
  execFileSync("sh", ["-c", `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages.join(" ")}`], { stdio: "inherit" });
}

/** Runs `main`; whatever happens, kills the `children` still listed and removes `work`. */
function runMain(main, children, work) {
  main()
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => {
      for (const child of children) child.kill("SIGKILL");
      rmSync(work, { recursive: true, force: true });
    });
}

module.exports = { aptInstall, have, runMain };
