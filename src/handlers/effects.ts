import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";

export const DAY_MS = 86_400_000;

// Date-only, or date + time with an explicit zone. A time without a zone is
// ambiguous (local to whom?), so it is a bad row, not a guess.
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * Parses a stored ISO-8601 instant, or returns null for a bad value.
 * Stricter than `Date.parse`, which silently turns 2025-02-30 into March 2nd.
 */
export function parseInstant(value: string | null | undefined): Date | null {
  if (typeof value !== "string") return null;
  const m = ISO_INSTANT.exec(value);
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0, offH = 0, offM = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)));
  const calendar = new Date(Date.UTC(year!, month! - 1, day!));
  if (calendar.getUTCMonth() !== month! - 1 || calendar.getUTCDate() !== day) return null;
  if (hour! > 23 || minute! > 59 || second! > 59 || offH! > 23 || offM! > 59) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

export function addDays(instant: Date, days: number): Date {
  return new Date(instant.getTime() + days * DAY_MS);
}

/**
 * `(SELECT value FROM json_each(?))`: a whole list as ONE bound parameter, for
 * `IN` and `INSERT ... SELECT`. D1 allows only 100 bound parameters per
 * statement, so lists are never spread over placeholders.
 */
export function jsonList(values: readonly unknown[]): SQL {
  return sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/** In a {@link selectEach} column: a field of the current JSON element, or the element itself. */
export function field(path?: string): SQL {
  return path === undefined ? sql`value` : sql`json_extract(value, ${`$.${path}`})`;
}

/**
 * The SELECT for `db.insert(table).select(...)` that yields one row per element
 * of `items`, all bound as ONE parameter (D1 allows only 100 per statement).
 * drizzle's insert-from-SQL names every column of the table, in table order, so
 * the SELECT list is built from the table itself: columns not given take the schema's default, or NULL
 * (an INTEGER PRIMARY KEY then gets a fresh id). `db.run(sql)` would be
 * simpler, but drizzle 0.45 cannot put a raw statement with parameters into a D1 batch.
 */
export function selectEach<T extends SQLiteTable>(
  table: T,
  items: readonly unknown[],
  columns: { [K in keyof T["_"]["columns"]]?: SQL | string | number },
): SQL {
  const given = columns as Record<string, SQL | string | number | undefined>;
  const list = Object.entries(getTableColumns(table)).map(([key, column]) => {
    const value = given[key];
    if (value !== undefined) return sql`${value}`;
    // The statement names every column, so SQLite's DEFAULT never applies: use the schema's own.
    const fallback = column.default;
    return fallback === undefined || fallback === null || typeof fallback === "object" ? sql`NULL` : sql`${fallback}`;
  });
  // The WHERE is not decoration: without it SQLite cannot parse the ON CONFLICT that follows.
  return sql`SELECT ${sql.join(list, sql`, `)} FROM json_each(${JSON.stringify(items)}) WHERE true`;
}

/**
 * Applies a plan's writes in one D1 batch, which D1 runs as one transaction:
 * either every effect lands or none does. An empty plan makes no round trip.
 */
export async function applyEffects(db: Db, effects: BatchItem<"sqlite">[]): Promise<void> {
  if (effects.length === 0) return;
  await db.batch(effects as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}
