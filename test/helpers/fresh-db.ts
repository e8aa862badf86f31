import { env } from "cloudflare:test";

/** The user tables of the test's D1 database (not SQLite's or D1's own). */
export async function userTables(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name",
  ).all<{ name: string }>();
  return results.map((r) => r.name);
}

/**
 * Empties the test file's database completely, migration records included, as
 * if it had just been created. Storage is per test file, so only this file sees
 * it; call it before the file's first request (the first one arms the jobs).
 */
export async function dropEverything(): Promise<void> {
  let left = await userTables();
  // Children before parents: D1 enforces foreign keys, also when dropping.
  for (let round = 0; left.length > 0 && round < 10; round++) {
    for (const table of left) {
      try {
        await env.DB.prepare(`DROP TABLE "${table}"`).run();
      } catch {
        // still referenced; the next round drops it
      }
    }
    left = await userTables();
  }
  if (left.length > 0) throw new Error(`could not drop ${left.join(", ")}`);
}

/** A table's columns as SQLite describes them: name, declared type, NOT NULL, default, primary key. */
export async function columnsOf(table: string) {
  const { results } = await env.DB.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`)
    .bind(table)
    .all<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>();
  return results;
}

/** A table's indexes with their columns, uniqueness and partial WHERE (from the stored CREATE INDEX). */
export async function indexesOf(table: string) {
  const { results } = await env.DB.prepare(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
  )
    .bind(table)
    .all<{ name: string; sql: string }>();
  // IF NOT EXISTS is not stored by SQLite, so old and new migrations compare equal.
  return results.map((r) => ({ name: r.name, sql: r.sql.replace(/\s+/g, " ") }));
}
