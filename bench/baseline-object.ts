import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/** Milliseconds since the epoch by SQLite's clock, at the moment the statement runs. */
export const SQLITE_NOW_MS = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";

interface Armed {
  phase: string;
  name: string;
  at: number;
}

/**
 * The runtime floor for the benchmark (never routed in production: it exists
 * only in bench/wrangler.toml). Its alarm does nothing but record, in one D1
 * row, when it was entered; the job's alarm does the same plus its real work.
 */
export class BaselineObject extends DurableObject<Env> {
  async arm(phase: string, name: string, at: number): Promise<void> {
    this.ctx.storage.kv.put<Armed>("armed", { phase, name, at });
    await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const entered = Date.now();
    const armed = this.ctx.storage.kv.get<Armed>("armed");
    if (!armed) return;
    await this.env.DB.prepare(
      `INSERT OR IGNORE INTO bench_baseline (phase, name, scheduled_ms, entered_ms, recorded_ms)
       VALUES (?1, ?2, ?3, ?4, ${SQLITE_NOW_MS})`,
    )
      .bind(armed.phase, armed.name, armed.at, entered)
      .run();
  }
}
