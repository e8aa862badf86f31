// A large synthetic mentoring platform, written straight into a local D1
// database file (the SQLite file miniflare keeps under .wrangler/state).
// Shared by `npm run seed:large` and `npm run bench:nightly`.
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** Mentor ids of the large seed start with this, so a reseed replaces exactly them. */
export const PREFIX = "big-";

/** The one D1 database file under a wrangler state directory (`--persist-to`, default .wrangler/state). */
export function d1File(state) {
  const dir = join(state, "v3", "d1", "miniflare-D1DatabaseObject");
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  } catch {
    // no local D1 yet
  }
  if (files.length !== 1) throw new Error(`expected one local D1 database in ${dir}, found ${files.length}`);
  return join(dir, files[0]);
}

export async function openSqlite(file, options = {}) {
  const emit = process.emitWarning;
  // node:sqlite announces itself as experimental on Node 22; nothing to act on here.
  process.emitWarning = (warning, ...rest) => (/SQLite/.test(String(warning)) ? undefined : emit.call(process, warning, ...rest));
  try {
    const { DatabaseSync } = await import("node:sqlite");
    return new DatabaseSync(file, options);
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * Replaces the large seed with `mentors` active mentors, each with one
 * certification expiring between 8 days before `now` and 400 days after it,
 * spread evenly (mentor i's offset is a fixed permutation of i, so a run is
 * reproducible). The rows are generated inside SQLite, in one transaction.
 * Returns what the nightly check should find at `now`.
 */
export async function seedLargePlatform(file, { mentors, now = new Date() }) {
  const db = await openSqlite(file);
  const started = Date.now();
  const nowIso = now.toISOString();
  const steps = 408_000; // thousandths of a day from -8 to +400
  try {
    db.exec("PRAGMA synchronous = OFF"); // local dev data: a crash mid-load means loading again
    db.exec("PRAGMA cache_size = -400000"); // 400 MB: the load's pages stay in memory until COMMIT
    db.exec("BEGIN");
    // Secondary indexes are built once after the load (a sorted build) rather
    // than row by row (and deleting the last seed's rows is cheaper without
    // them); the same definitions, read from the schema itself.
    const indexes = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('mentors', 'certifications')")
      .all();
    for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
    for (const table of ["notification_outbox", "pauses", "certifications", "mentors"]) {
      db.prepare(`DELETE FROM ${table} WHERE mentor_id GLOB ?`).run(`${PREFIX}*`);
    }
    db.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
       INSERT INTO mentors (mentor_id, name, email, status, created_at)
       SELECT printf('${PREFIX}%07d', i), 'Mentor ' || i, printf('${PREFIX}%07d@example.org', i), 'active', ? FROM k`,
    ).run(mentors, nowIso);
    db.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
       INSERT INTO certifications (certification_id, mentor_id, name, expires_at)
       SELECT printf('${PREFIX}cert-%07d', i), printf('${PREFIX}%07d', i), 'Safeguarding',
              strftime('%Y-%m-%dT%H:%M:%fZ', ? / 1000.0 + ((i * 7919) % ${steps} / 1000.0 - 8) * 86400, 'unixepoch') FROM k`,
    ).run(mentors, now.getTime());
    for (const { sql } of indexes) db.exec(sql);
    db.exec("COMMIT");
    const count = (sql, ...args) => Number(db.prepare(sql).get(...args).n);
    const expired = count("SELECT count(*) AS n FROM certifications WHERE mentor_id GLOB ? AND expires_at <= ?", `${PREFIX}*`, nowIso);
    const window = count(
      "SELECT count(*) AS n FROM certifications WHERE mentor_id GLOB ? AND expires_at > ? AND expires_at <= ?",
      `${PREFIX}*`,
      nowIso,
      new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    );
    return { mentors, expired, inReminderWindow: window, ms: Date.now() - started };
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  } finally {
    db.close();
  }
}
