#!/usr/bin/env node
// `npm run seed:large -- --mentors 1000000 [--persist-to DIR]`: loads a large
// synthetic platform into the local D1 that `npm run dev` uses (next to the
// demo seed, which stays the default; a reseed replaces only the "big-" mentors).
// Each mentor has one certification expiring between 8 days ago and 400 days ahead.
//
// It writes the local D1's SQLite file directly, in one transaction, with the
// rows generated inside SQLite: a million mentors take seconds. Through the
// Worker (the platform import API) every row would cross HTTP, the Worker and
// D1's per-statement limits (100 KB statements, 100 parameters): minutes of
// requests. `wrangler d1 execute --file` would parse a 150 MB SQL file. This is
// for local use only; production data comes through the import API.
// Stop `npm run dev` first: workerd keeps the file open, and a long write
// under it can make the dev server's queries wait or fail.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { d1File, openSqlite, seedLargePlatform } from "./lib/large-platform.mjs";

/** True when the local D1 exists and has every migration in migrations/ applied. */
async function migrated(state) {
  try {
    const db = await openSqlite(d1File(state), { readOnly: true });
    try {
      const applied = new Set(db.prepare("SELECT name FROM d1_migrations").all().map((r) => r.name));
      return readdirSync("migrations").filter((f) => f.endsWith(".sql")).every((f) => applied.has(f));
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return undefined;
  return args[i].includes("=") ? args[i].split("=")[1] : args[i + 1];
};
const mentors = Number(flag("--mentors") ?? 1_000_000);
if (!Number.isInteger(mentors) || mentors < 1 || mentors > 10_000_000) {
  console.error(`seed:large: --mentors must be an integer from 1 to 10000000, got ${flag("--mentors")}`);
  process.exit(2);
}
const state = flag("--persist-to") ?? ".wrangler/state";
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: process.env.CI ?? "true" };

// The same migrations `npm run dev` applies, so the file exists and has every
// table; wrangler takes seconds to start, so only when one is missing.
if (!(await migrated(state))) {
  execFileSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { stdio: ["ignore", "inherit", "inherit"], env });
}
const result = await seedLargePlatform(d1File(state), { mentors });
console.log(
  `seed:large: ${result.mentors.toLocaleString("en")} mentors in ${(result.ms / 1000).toFixed(1)} s ` +
    `(${result.expired.toLocaleString("en")} certifications expired, ${result.inReminderWindow.toLocaleString("en")} within 30 days) in ${state}`,
);
