import type { BatchItem } from "drizzle-orm/batch";
import { clock } from "../lib/clock";
import { deleteStepsBefore, insertStep, isStepConflict, readLastStep, type StepRow } from "../repositories/run-steps-repo";
import type { HandlerContext, JobHandler, ResultSummary, StepResult } from "./types";

/**
 * Rows per page of a built-in handler's keyset scan. It bounds a step's
 * memory, the rows any one query returns and the size of every bound list
 * (a few hundred bytes per row stays far below D1's 1 MB per value).
 */
export const PAGE_ROWS = 2_000;

/** What one chunk found, and (in a real run) the writes that apply it. */
export interface ChunkPlan<C> {
  /** This chunk's share of the run's counters (added to the earlier steps'). */
  counters: ResultSummary;
  /** Rows this chunk handled, for progress. */
  processed: number;
  /** Where the next chunk starts; null when this was the last one. */
  next: C | null;
  /** The chunk's effects; must be empty in a dry run. */
  effects: BatchItem<"sqlite">[];
}

export interface ChunkedJob<C> {
  /** The summary of a run that found nothing: every counter the handler reports, at 0. */
  zero: ResultSummary;
  /** The run's total for progress, counted once at its first step (one bounded query), or null. */
  count(ctx: HandlerContext): Promise<number | null>;
  /**
   * Plans one chunk (it may read, never write): starts after `cursor` (null:
   * the start); `soFar` is the run's summary before it.
   */
  chunk(ctx: HandlerContext, cursor: C | null, pageRows: number, soFar: ResultSummary): Promise<ChunkPlan<C>>;
}

function result(row: StepRow): StepResult {
  return { done: row.done, summary: row.summary, progress: { processed: row.processed, total: row.total } };
}

function add(a: ResultSummary, b: ResultSummary): ResultSummary {
  const out = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = (out[key] ?? 0) + value;
  return out;
}

/**
 * A handler that goes through its work one chunk per step. A step reads the
 * run's last ledger row (its cursor and counters), plans the next chunk, and
 * commits the chunk's effects together with the next ledger row in ONE D1
 * batch (one transaction). A step that runs again after its batch committed
 * (the object died before it learned so) reads the new ledger row and goes on
 * from there; two copies of one step racing each other: the second batch
 * fails on the ledger's primary key and rolls back whole. Either way no
 * effect and no count happens twice. Dry runs take the same path with no
 * effects, so their ledger counts predict the real run's.
 */
export function chunkedHandler<C>(job: ChunkedJob<C>, pageRows = PAGE_ROWS): JobHandler {
  return {
    async step(ctx) {
      const { db, jobId, runId } = ctx;
      const last = await readLastStep(db, jobId, runId);
      if (last?.done) return result(last);

      const total = last ? last.total : await job.count(ctx);
      const soFar = last?.summary ?? job.zero;
      const plan = await job.chunk(ctx, (last?.cursor as C | null | undefined) ?? null, pageRows, soFar);
      if (ctx.dryRun && plan.effects.length > 0) throw new Error("a dry run planned effects");
      const row: StepRow = {
        jobId,
        runId,
        stepNo: (last?.stepNo ?? 0) + 1,
        done: plan.next === null,
        cursor: plan.next,
        processed: (last?.processed ?? 0) + plan.processed,
        total,
        summary: add(soFar, plan.counters),
        committedAt: clock.now().toISOString(),
      };
      const writes: BatchItem<"sqlite">[] = [insertStep(db, row), ...plan.effects];
      if (row.done && row.stepNo > 1) writes.push(deleteStepsBefore(db, jobId, runId, row.stepNo));
      try {
        await db.batch(writes as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
      } catch (error) {
        if (!isStepConflict(error)) throw error;
        // Another copy of this step committed first: report what it committed.
        const committed = await readLastStep(db, jobId, runId);
        if (!committed) throw error;
        return result(committed);
      }
      return result(row);
    },
  };
}
