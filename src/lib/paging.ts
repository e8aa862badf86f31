import { z } from "@hono/zod-openapi";

/**
 * A cursor-paged list, newest first: its rows are ordered by an increasing
 * whole-number key (audit seq, notification id, report id), and a cursor is
 * "<prefix><key>" of the last row shown; the next page is what is older.
 * Ask the repository for `limit + 1` rows: the extra one says there is more.
 */
export function keysetPaging(prefix: string) {
  const cursorOf = (key: number) => `${prefix}${key}`;
  return {
    cursorOf,
    /** The `cursor` query parameter: only a next_cursor this list gave out. */
    cursorQuery: z
      .string()
      .regex(new RegExp(`^${prefix}[0-9]{1,15}$`), { message: "cursor must be the next_cursor of the previous page" })
      .optional(),
    /** The key a (validated) cursor names: rows older than it come next. */
    before: (cursor: string | undefined) => (cursor === undefined ? undefined : Number(cursor.slice(prefix.length))),
    /** The page of `limit` rows out of the `limit + 1` asked for, and the next page's cursor if there is one. */
    page<Row, Item>(rows: Row[], limit: number, keyOf: (row: Row) => number, present: (row: Row) => Item) {
      const shown = rows.slice(0, limit);
      return { data: shown.map(present), next_cursor: rows.length > limit ? cursorOf(keyOf(shown[shown.length - 1]!)) : null };
    },
  };
}

/** The response schema of a cursor-paged list of `item`. */
export const pageSchema = <Item extends z.ZodType>(item: Item) => z.object({ data: z.array(item), next_cursor: z.string().nullable() });
