import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";

/**
 * The drizzle handle over the D1 binding. Built without a relational schema:
 * nothing uses `db.query`, and extracting the relations config is work the
 * alarm path would otherwise do in every job object.
 */
export type Db = DrizzleD1Database & { $client: D1Database };

export function createDb(d1: D1Database): Db {
  return drizzle(d1);
}
