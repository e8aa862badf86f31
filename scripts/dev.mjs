#!/usr/bin/env node
// `npm run dev [-- wrangler dev flags]`: the service on http://localhost:8787 with
// D1 migrated and seeded with demo data, and the built-in jobs armed at start.
//   1. .dev.vars from .dev.vars.example (the local API token), unless it exists;
//   2. both migration sets (PLATFORM_TABLES, DB) --local, then seed/demo.sql (idempotent);
//   3. wrangler dev with the flags given (e.g. --port 8788, --persist-to DIR);
//   4. one request once it answers, so the supervisor arms every job at once.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return undefined;
  return args[i].includes("=") ? args[i].split("=")[1] : args[i + 1];
};
const port = Number(flag("--port") ?? 8787);
const persist = flag("--persist-to");
const persistArgs = persist ? ["--persist-to", persist] : [];
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: process.env.CI ?? "true" };

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("dev: created .dev.vars from .dev.vars.example (local API token)");
}

const wrangler = (...rest) => execFileSync("wrangler", rest, { stdio: ["ignore", "inherit", "inherit"], env });
// The optional set of the platform's own tables first (locally the scheduler keeps them itself), then its own.
wrangler("d1", "migrations", "apply", "PLATFORM_TABLES", "--local", ...persistArgs);
wrangler("d1", "migrations", "apply", "DB", "--local", ...persistArgs);
wrangler("d1", "execute", "DB", "--local", "--file", "seed/demo.sql", ...persistArgs);

const child = spawn("wrangler", ["dev", ...args], { stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

const deadline = Date.now() + 120_000;
while (Date.now() < deadline && child.exitCode === null) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/scheduler/jobs`);
    if (res.ok) {
      console.log(`dev: ready on http://localhost:${port} (jobs armed; dashboard at /, API at /api/v1/scheduler)`);
      break;
    }
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 500));
}
