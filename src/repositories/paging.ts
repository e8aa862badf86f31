import { and, desc, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";

/**
 * Rows of `table` newest first by `key` (its increasing whole-number key), that
 * match every given filter (an undefined one is left out) and are older than
 * `beforeKey` if given: one page of a keyset-paged list (src/lib/paging.ts).
 */
export function newestFirst<Table extends SQLiteTable>(
  db: Db,
  table: Table,
  key: SQLiteColumn,
  filters: (SQL | undefined)[],
  beforeKey: number | undefined,
  limit: number,
): Promise<Table["$inferSelect"][]> {
  return db
    .select()
    .from(table as SQLiteTable)
    .where(and(...filters, beforeKey === undefined ? undefined : lt(key, beforeKey)))
    .orderBy(desc(key))
    .limit(limit) as Promise<Table["$inferSelect"][]>;
}
