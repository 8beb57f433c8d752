#!/usr/bin/env node
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./config.js";
import { reportStartFailure, serve } from "./server.js";
import { settings } from "./settings.js";
import { openStore } from "./store/open-store.js";

const usage = `Usage: invites <command> [options]

Commands:
  serve     run the service (gRPC, gRPC-Web, Connect and the M3O paths on one port)
  migrate   apply pending database migrations to DATABASE_URL, then exit
  version   print the version

Options (each overrides its environment variable):
${settings.map((s) => `  --${s.flag.padEnd(31)} ${s.env}: ${s.description} [default: ${s.default}]`).join("\n")}
  --help                            show this help
`;

/** `invites serve | migrate | version`; returns the exit code, or never returns while serving. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(settings.map((s) => [s.flag, { type: "string" as const }])),
      },
    });
  } catch (err) {
    const message = (err as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
    process.stderr.write(`invites: ${unknown ? `unknown option ${unknown}` : message.split(/[.\n]/)[0]} (see invites --help)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (values.help || command === "help") {
    process.stdout.write(usage);
    return 0;
  }
  if (extra.length > 0) {
    process.stderr.write(`invites: unexpected argument "${extra[0]}" (see invites --help)\n`);
    return 2;
  }
  const merged = { ...env };
  for (const setting of settings) {
    const value = (values as Record<string, string | undefined>)[setting.flag];
    if (value !== undefined) merged[setting.env] = value;
  }
  try {
    switch (command) {
      case "serve":
        await serve(loadConfig(merged));
        return -1;
      case "migrate": {
        const store = await openStore({ ...loadConfig(merged).database, migrate: true });
        await store.close();
        process.stderr.write("invites: the database schema is up to date\n");
        return 0;
      }
      case "version":
        process.stdout.write(`invites ${packageVersion()}\n`);
        return 0;
      case undefined:
        process.stderr.write(`invites: a command is needed: serve, migrate or version (see invites --help)\n`);
        return 2;
      default:
        process.stderr.write(`invites: unknown command "${command}" (see invites --help)\n`);
        return 2;
    }
  } catch (err) {
    return reportStartFailure(err instanceof ConfigError || command !== "migrate" ? err : new Error(`migration failed: ${(err as Error).message}`));
  }
}

function packageVersion(): string {
  // dist/src/cli.js and src/cli.ts sit at different depths below package.json.
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  }
  return "unknown";
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exitCode = code;
  });
}
