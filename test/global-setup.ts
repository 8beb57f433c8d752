import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** Process tests run the built server, as `npm start` does. */
export default function globalSetup(): void {
  const root = join(__dirname, "..");
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
}
