import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import doc from "../docs/platform-data.md?raw";
import * as platformSchema from "../src/db/platform-schema";
import { columnsOf, indexesOf } from "./helpers/fresh-db";

// docs/platform-data.md is the platform team's contract. Its tables must say
// exactly what the migrated database and the handlers' drizzle schema say.

interface DocColumn {
  name: string;
  type: string;
  required: boolean;
}

/** Each "## `table`" section's column table: name, type, required. */
function documentedTables(markdown: string): Map<string, DocColumn[]> {
  const tables = new Map<string, DocColumn[]>();
  let current: DocColumn[] | null = null;
  for (const line of markdown.split("\n")) {
    const heading = /^## `([a-z_]+)`\s*$/.exec(line);
    if (heading) {
      current = [];
      tables.set(heading[1]!, current);
      continue;
    }
    if (line.startsWith("## ")) current = null;
    const row = /^\| `([a-z_]+)` \| ([A-Z]+) \| (yes|no) \|/.exec(line);
    if (row && current) current.push({ name: row[1]!, type: row[2]!, required: row[3] === "yes" });
  }
  return tables;
}

const drizzleTables = Object.values(platformSchema as Record<string, unknown>).filter((value): value is SQLiteTable => value instanceof SQLiteTable);
const documented = documentedTables(doc);

describe("docs/platform-data.md", () => {
  it("documents exactly the tables of the handlers' schema (src/db/platform-schema.ts)", () => {
    expect(drizzleTables.length).toBeGreaterThanOrEqual(5);
    expect([...documented.keys()].sort()).toEqual(drizzleTables.map((t) => getTableConfig(t).name).sort());
  });

  for (const [table, columns] of documented) {
    it(`${table}: every column, its type and NOT NULL as the migrated database has them`, async () => {
      const actual = await columnsOf(table);
      expect(actual.length, `${table} exists and has columns`).toBeGreaterThan(0);
      expect(columns).toEqual(actual.map((c) => ({ name: c.name, type: c.type, required: c.notnull === 1 || c.pk > 0 })));
    });

    it(`${table}: every column as the drizzle schema has it`, () => {
      const config = getTableConfig(drizzleTables.find((t) => getTableConfig(t).name === table)!);
      expect(columns).toEqual(config.columns.map((c) => ({ name: c.name, type: c.getSQLType().toUpperCase(), required: c.notNull || c.primary })));
    });

    it(`${table}: names every index the migrations create`, async () => {
      for (const index of await indexesOf(table)) {
        expect(doc, `${table}'s index ${index.name}`).toMatch(new RegExp(`\`[^\`]*\\b${index.name}\\b[^\`]*\``));
      }
    });
  }

  it("states the unique open pause exactly as the index is defined", async () => {
    const index = (await indexesOf("pauses")).find((i) => i.name === "pauses_open");
    expect(index?.sql).toBe("CREATE UNIQUE INDEX pauses_open ON pauses (mentor_id, reason) WHERE lifted_at IS NULL");
    expect(doc).toContain("`pauses_open ON pauses (mentor_id, reason) WHERE lifted_at IS NULL`");
  });
});
