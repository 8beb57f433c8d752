import { readFileSync } from "node:fs";
import { join } from "node:path";
import { settings } from "../../src/settings.js";

const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");

test("the README's configuration table lists every setting with its flag and default", () => {
  for (const setting of settings) {
    expect(readme).toContain(`| \`${setting.env}\` | \`--${setting.flag}\` | ${setting.default} |`);
  }
});
