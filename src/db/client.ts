import type { SQL } from "drizzle-orm";
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

/**
 * A raw `sql` statement that can go in `db.batch` with the builders' queries.
 * drizzle's D1 batch binds a query's parameters to its prepared `stmt`, which
 * `db.run(sql)` does not make (drizzle-orm 0.45: "reading 'bind'"); this gives it one.
 */
export function statement(db: Db, query: SQL) {
  const raw = db.run(query);
  return Object.assign(raw, { stmt: db.$client.prepare(raw.getQuery().sql) });
}

/** The same for a statement whose rows the batch hands back (a SELECT, or RETURNING). */
export function rowsStatement<Row>(db: Db, query: SQL) {
  const raw = db.all<Row>(query);
  return Object.assign(raw, { stmt: db.$client.prepare(raw.getQuery().sql) });
}
