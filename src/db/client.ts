import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as platform from "./platform-schema";
import * as scheduler from "./schema";

export const schema = { ...scheduler, ...platform };
export type Db = DrizzleD1Database<typeof schema> & { $client: D1Database };

/** One drizzle handle over the D1 binding; cheap, so made per request or run. */
export function createDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}
