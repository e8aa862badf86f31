import type { Env } from "../src/env";
import { D1Meter, type MeterTotals } from "./d1-meter";
import { JobScheduler } from "./job-scheduler";

const METER_KEY = "bench:meter";

/**
 * The bench's JobScheduler (the service's, with benchNoop), given a D1 binding that adds up D1's
 * own rows_read / rows_written for everything the object does (admission,
 * handler, finish). The totals are kept in the object's storage so an
 * eviction between the run and the read loses nothing.
 */
export class MeteredJobScheduler extends JobScheduler {
  constructor(ctx: DurableObjectState, env: Env) {
    const meter = new D1Meter((totals) => ctx.storage.kv.put(METER_KEY, totals));
    const saved = ctx.storage.kv.get<MeterTotals>(METER_KEY);
    if (saved) meter.totals = { ...saved };
    super(ctx, { ...env, DB: meter.wrap(env.DB) });
  }

  benchMeter(): MeterTotals | null {
    return this.ctx.storage.kv.get<MeterTotals>(METER_KEY) ?? null;
  }
}
