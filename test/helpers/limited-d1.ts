import { env } from "cloudflare:test";
import { createDb, type Db } from "../../src/db/client";

/**
 * A D1 binding that refuses what production D1 refuses, which local D1 does
 * not: https://developers.cloudflare.com/d1/platform/limits/
 *  - a statement over 100 KB, more than 100 bound parameters,
 *  - a bound string or BLOB over 1 MB, a row read back over 1 MB (the docs
 *    have said 1 MB and 2 MB; the lower figure is the design bound),
 *  - more than 1,000 queries per invocation (paid plan; a batch counts each
 *    statement). An invocation is what the test says it is: one handler step.
 * And one rule of our own: no query returns more rows than one chunk.
 * It counts too, so tests can assert the peaks.
 */
export interface D1Limits {
  statementBytes: number;
  boundParameters: number;
  valueBytes: number;
  rowBytes: number;
  queriesPerInvocation: number;
  /** Rows any one query may return: the chunk size under test. */
  rowsPerQuery: number;
}

export const PRODUCTION_LIMITS: Omit<D1Limits, "rowsPerQuery"> = {
  statementBytes: 100_000,
  boundParameters: 100,
  valueBytes: 1_000_000,
  rowBytes: 1_000_000,
  queriesPerInvocation: 1_000,
};

export class D1LimitError extends Error {
  override name = "D1LimitError";
}

const bytes = (text: string) => new TextEncoder().encode(text).length;

function valueBytes(value: unknown): number {
  if (typeof value === "string") return bytes(value);
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  return 8;
}

export class LimitedD1 {
  readonly limits: D1Limits;
  /** Queries in the current invocation. */
  queries = 0;
  /** The most queries any invocation made, the most rows any query returned, the most bytes any bound value had. */
  peak = { queriesPerInvocation: 0, rowsPerQuery: 0, valueBytes: 0, statementBytes: 0, boundParameters: 0 };
  invocations = 0;

  constructor(
    readonly inner: D1Database,
    limits: Partial<D1Limits> & { rowsPerQuery: number },
  ) {
    this.limits = { ...PRODUCTION_LIMITS, ...limits };
  }

  /** Starts a new invocation (one handler step): the per-invocation query count starts over. */
  beginInvocation(): void {
    this.queries = 0;
    this.invocations++;
  }

  /** A drizzle handle over this binding, as the handlers get it. */
  db(): Db {
    return createDb(this.binding());
  }

  binding(): D1Database {
    const self = this;
    const binding = {
      prepare: (sql: string) => self.statement(sql, self.inner.prepare(sql)),
      async batch(statements: D1PreparedStatement[]) {
        const inner = statements.map((s) => {
          const wrapped = (s as unknown as { [INNER]?: D1PreparedStatement })[INNER];
          if (!wrapped) throw new D1LimitError("batch: a statement that was not prepared through this binding");
          return wrapped;
        });
        self.count(statements.length);
        const results = await self.inner.batch(inner);
        for (const r of results) self.checkRows(r.results ?? []);
        return results;
      },
      async exec(): Promise<D1ExecResult> {
        throw new D1LimitError("exec is not used by the service; run statements through prepare()");
      },
      withSession: () => {
        throw new D1LimitError("withSession is not used by the service");
      },
      dump: () => self.inner.dump(),
    };
    return binding as unknown as D1Database;
  }

  private count(n: number): void {
    this.queries += n;
    this.peak.queriesPerInvocation = Math.max(this.peak.queriesPerInvocation, this.queries);
    if (this.queries > this.limits.queriesPerInvocation) {
      throw new D1LimitError(`more than ${this.limits.queriesPerInvocation} queries in one invocation (${this.queries})`);
    }
  }

  private checkRows(rows: unknown[]): void {
    this.peak.rowsPerQuery = Math.max(this.peak.rowsPerQuery, rows.length);
    if (rows.length > this.limits.rowsPerQuery) {
      throw new D1LimitError(`a query returned ${rows.length} rows, more than one chunk (${this.limits.rowsPerQuery})`);
    }
    for (const row of rows) {
      const size = bytes(JSON.stringify(row));
      if (size > this.limits.rowBytes) throw new D1LimitError(`a row of ${size} bytes, over ${this.limits.rowBytes}`);
    }
  }

  private statement(sql: string, inner: D1PreparedStatement): D1PreparedStatement {
    const size = bytes(sql);
    this.peak.statementBytes = Math.max(this.peak.statementBytes, size);
    if (size > this.limits.statementBytes) {
      throw new D1LimitError(`a statement of ${size} bytes, over ${this.limits.statementBytes}`);
    }
    const self = this;
    const run = async <T>(call: () => Promise<T>, rowsOf: (r: T) => unknown[]): Promise<T> => {
      self.count(1);
      const result = await call();
      self.checkRows(rowsOf(result));
      return result;
    };
    const wrapped = {
      [INNER]: inner,
      bind(...values: unknown[]) {
        self.peak.boundParameters = Math.max(self.peak.boundParameters, values.length);
        if (values.length > self.limits.boundParameters) {
          throw new D1LimitError(`${values.length} bound parameters, over ${self.limits.boundParameters}`);
        }
        for (const v of values) {
          const n = valueBytes(v);
          self.peak.valueBytes = Math.max(self.peak.valueBytes, n);
          if (n > self.limits.valueBytes) throw new D1LimitError(`a bound value of ${n} bytes, over ${self.limits.valueBytes}`);
        }
        return self.statement(sql, inner.bind(...values));
      },
      first: (column?: string) =>
        run(
          () => (column === undefined ? inner.first() : inner.first(column)),
          (r) => (r === null ? [] : [r]),
        ),
      all: () => run(() => inner.all(), (r) => r.results),
      run: () => run(() => inner.run(), (r) => r.results ?? []),
      raw: (options?: { columnNames?: boolean }) =>
        run(
          () => (options?.columnNames ? inner.raw({ columnNames: true }) : inner.raw()) as Promise<unknown[][]>,
          (r) => r,
        ),
    };
    return wrapped as unknown as D1PreparedStatement;
  }
}

const INNER = Symbol("inner statement");

/** A limit-enforcing wrapper around the test D1, with the chunk size the handler under test uses. */
export function limitedDb(rowsPerQuery: number): LimitedD1 {
  return new LimitedD1(env.DB, { rowsPerQuery });
}
