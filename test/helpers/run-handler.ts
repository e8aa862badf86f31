import type { HandlerContext, JobHandler, ResultSummary, StepResult } from "../../src/handlers/types";
import type { LimitedD1 } from "./limited-d1";

/**
 * Runs a handler to the end the way the job's object does: one `step` per
 * invocation until done. With a LimitedD1, each step is one invocation of it
 * (the per-invocation query count starts over) and the steps use its binding.
 */
export async function runSteps(
  handler: JobHandler,
  ctx: HandlerContext,
  limited?: LimitedD1,
): Promise<{ summary: ResultSummary; steps: StepResult[] }> {
  const steps: StepResult[] = [];
  const stepCtx = limited ? { ...ctx, db: limited.db() } : ctx;
  for (;;) {
    limited?.beginInvocation();
    const result = await handler.step(stepCtx);
    steps.push(result);
    if (result.done) return { summary: result.summary, steps };
    if (steps.length > 100_000) throw new Error("the handler never finished");
  }
}

/** The whole run's summary. */
export async function run(handler: JobHandler, ctx: HandlerContext, limited?: LimitedD1): Promise<ResultSummary> {
  return (await runSteps(handler, ctx, limited)).summary;
}
