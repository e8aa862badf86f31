/**
 * A D1 binding that adds up D1's own `meta.rows_read` / `meta.rows_written`
 * for every statement run through it. `raw()` carries no meta, so it is run
 * as `all()` and turned into arrays the way drizzle does for batches
 * (`Object.keys` order); fine for the queries metered here (no duplicate
 * column names).
 */
export interface MeterTotals {
  statements: number;
  roundTrips: number;
  rowsRead: number;
  rowsWritten: number;
}

export class D1Meter {
  totals: MeterTotals = { statements: 0, roundTrips: 0, rowsRead: 0, rowsWritten: 0 };

  constructor(private readonly onChange?: (totals: MeterTotals) => void) {}

  add(meta: D1Meta | undefined, statements = 1): void {
    this.totals.statements += statements;
    this.totals.rowsRead += meta?.rows_read ?? 0;
    this.totals.rowsWritten += meta?.rows_written ?? 0;
    this.onChange?.(this.totals);
  }

  roundTrip(): void {
    this.totals.roundTrips++;
  }

  wrap(db: D1Database): D1Database {
    const meter = this;
    const wrapped = {
      prepare: (query: string) => new MeteredStatement(db.prepare(query), meter),
      async batch<T>(statements: D1PreparedStatement[]) {
        meter.roundTrip();
        const inner = statements.map((s) => (s instanceof MeteredStatement ? s.inner : s));
        const results = await db.batch<T>(inner);
        for (const result of results) meter.add(result.meta);
        return results;
      },
      exec: (query: string) => db.exec(query),
      dump: () => db.dump(),
      withSession: () => {
        throw new Error("D1Meter: withSession is not metered");
      },
    };
    return wrapped as unknown as D1Database;
  }
}

class MeteredStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly meter: D1Meter,
  ) {}

  bind(...values: unknown[]): MeteredStatement {
    return new MeteredStatement(this.inner.bind(...values), this.meter);
  }

  private async measured<T>(): Promise<D1Result<T>> {
    this.meter.roundTrip();
    const result = await this.inner.all<T>();
    this.meter.add(result.meta);
    return result;
  }

  all<T>() {
    return this.measured<T>();
  }

  run<T>() {
    return this.measured<T>();
  }

  async first<T>(column?: string): Promise<T | null> {
    const row = (await this.measured<Record<string, unknown>>()).results[0];
    if (!row) return null;
    return (column === undefined ? row : row[column]) as T;
  }

  async raw<T extends unknown[]>(options?: { columnNames?: boolean }): Promise<T[]> {
    const rows = (await this.measured<Record<string, unknown>>()).results;
    const values = rows.map((row) => Object.keys(row).map((k) => row[k])) as T[];
    return options?.columnNames ? ([Object.keys(rows[0] ?? {}), ...values] as T[]) : values;
  }
}
