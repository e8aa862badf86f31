import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { clock } from "../src/lib/clock";
import { PRUNE_BATCH, RUN_CAPS, runRetention } from "../src/services/retention";
import { call, registerJob, uniqueName } from "./helpers/api";
import { freezeClock } from "./helpers/clock";
import { auditRows } from "./helpers/db-snapshot";
import { jobRow, runsOf } from "./helpers/scheduler";

/** Issue 14, "Retention that keeps the right things". runRetention is called directly, and once through the supervisor's pass. */

beforeEach(() => freezeClock());

const DAY = 86_400_000;
const clockNow = () => clock.now().getTime();
const db = () => createDb(env.DB);
const at = (ms: number) => new Date(ms).toISOString();

type Kind = "real" | "dry" | "skipped" | "running";
async function seed(jobName: string, kinds: Kind[], startedAt = at(clockNow())) {
  const job = await jobRow(jobName);
  const insert = env.DB.prepare(
    `INSERT INTO runs (job_id, job_name, scheduled_for, triggered_by, dry_run, status, attempts, started_at)
     VALUES (?, ?, ?, 'seed', ?, ?, 1, ?)`,
  );
  const statements = kinds.map((kind, i) =>
    insert.bind(
      job!.job_id,
      jobName,
      kind === "skipped" ? at(Date.parse(startedAt) - (kinds.length - i) * 60_000) : null,
      kind === "dry" ? 1 : 0,
      kind === "skipped" ? "skipped" : kind === "running" ? "running" : "success",
      startedAt,
    ),
  );
  for (let i = 0; i < statements.length; i += 50) await env.DB.batch(statements.slice(i, i + 50));
  return job!.job_id as number;
}

const kindOf = (r: { status: string; dry_run: number | boolean }): Kind =>
  r.status === "skipped" ? "skipped" : r.status === "running" ? "running" : r.dry_run ? "dry" : "real";

describe("runs per job: each kind under its own cap", () => {
  it("keeps the newest 100 real runs, 20 skipped instants and 20 dry runs, and every running run", async () => {
    const name = uniqueName("caps");
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    const kinds: Kind[] = ["running"];
    for (let i = 0; i < 130; i++) kinds.push("real", "dry", "skipped");
    const jobId = await seed(name, kinds);
    const before = await runsOf(name);
    const newestOf = (kind: Kind, n: number) => before.filter((r) => kindOf(r as never) === kind).slice(-n).map((r) => r.seq);

    const report = await runRetention(env, db(), new Date(clockNow()), [jobId]);
    expect(report.runs).toBe(30 + 110 + 110);
    const left = await runsOf(name);
    expect(left.filter((r) => kindOf(r as never) === "real").map((r) => r.seq)).toEqual(newestOf("real", RUN_CAPS.real));
    expect(left.filter((r) => kindOf(r as never) === "dry").map((r) => r.seq)).toEqual(newestOf("dry", RUN_CAPS.dry));
    expect(left.filter((r) => kindOf(r as never) === "skipped").map((r) => r.seq)).toEqual(newestOf("skipped", RUN_CAPS.skipped));
    expect(left.filter((r) => r.status === "running")).toHaveLength(1);
    // Nothing more to do: a second pass deletes nothing.
    expect((await runRetention(env, db(), new Date(clockNow()), [jobId])).runs).toBe(0);
  });

  it("a flood of dry runs and skipped instants never erases the real run that last_run_* and last-result describe", async () => {
    const name = uniqueName("flood");
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    const jobId = await seed(name, ["real"]);
    const [real] = await runsOf(name);
    await env.DB.prepare("UPDATE jobs SET last_run_seq = ?, last_run_at = ?, last_run_status = 'success' WHERE job_id = ?")
      .bind(real!.seq, new Date(clockNow()).toISOString(), jobId)
      .run();
    await seed(name, [...Array(150).fill("dry"), ...Array(150).fill("skipped")]);

    await runRetention(env, db(), new Date(clockNow()), [jobId]);
    const left = await runsOf(name);
    expect(left.some((r) => r.seq === real!.seq)).toBe(true);
    expect(left).toHaveLength(1 + RUN_CAPS.dry + RUN_CAPS.skipped);
    const last = await call("GET", `/jobs/${name}/last-result`, { token: null });
    expect(last.status).toBe(200);
    expect((await jobRow(name))?.last_run_seq).toBe(real!.seq);
  });

  it("never prunes the last_run_seq run even when it is older than the newest 100 real runs", async () => {
    const name = uniqueName("pinned");
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    const jobId = await seed(name, Array(RUN_CAPS.real + 5).fill("real"));
    const [oldest] = await runsOf(name);
    await env.DB.prepare("UPDATE jobs SET last_run_seq = ? WHERE job_id = ?").bind(oldest!.seq, jobId).run();
    expect((await runRetention(env, db(), new Date(clockNow()), [jobId])).runs).toBe(4);
    expect((await runsOf(name)).some((r) => r.seq === oldest!.seq)).toBe(true);
  });

  it("deletes at most PRUNE_BATCH runs of one job per pass", async () => {
    const name = uniqueName("bounded");
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    const jobId = await seed(name, Array(RUN_CAPS.skipped + PRUNE_BATCH + 10).fill("skipped"));
    expect((await runRetention(env, db(), new Date(clockNow()), [jobId])).runs).toBe(PRUNE_BATCH);
    expect((await runRetention(env, db(), new Date(clockNow()), [jobId])).runs).toBe(10);
  });

  it("runs from the supervisor's pass (its one call line)", async () => {
    await runInDurableObject(env.SUPERVISOR.getByName("supervisor"), (_instance, state) => state.storage.kv.put("cursor", ""));
    const name = `000-${uniqueName("via-pass")}`;
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    await seed(name, ["real", ...Array(RUN_CAPS.dry + 7).fill("dry")]);
    const report = await env.SUPERVISOR.getByName("supervisor").runPass();
    expect(report.pruned_runs).toBeGreaterThanOrEqual(7);
    expect((await runsOf(name)).filter((r) => kindOf(r as never) === "real")).toHaveLength(1);
  });
});

describe("runs of deleted jobs", () => {
  it("are kept RUN_RETENTION_DAYS after the deletion, then pruned, and the pruning is audited as a count", async () => {
    const name = uniqueName("deleted");
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    await seed(name, ["real", "real", "dry"], at(clockNow() - 2 * DAY));
    expect((await call("DELETE", `/jobs/${name}`)).status).toBe(200);
    const deletedAt = clockNow();

    expect((await runRetention(env, db(), new Date(deletedAt + 29 * DAY), [])).runs_of_deleted_jobs).toBe(0);
    expect(await runsOf(name)).toHaveLength(3);
    const report = await runRetention(env, db(), new Date(deletedAt + 31 * DAY), []);
    expect(report.runs_of_deleted_jobs).toBeGreaterThanOrEqual(3);
    expect(await runsOf(name)).toHaveLength(0);
    const { results } = await env.DB.prepare("SELECT * FROM audit_log WHERE action = 'retention_prune' AND at = ?").bind(at(deletedAt + 31 * DAY)).all();
    const counted = results.map((r) => JSON.parse(String(r.after)));
    expect(counted).toContainEqual(expect.objectContaining({ runs_of_deleted_jobs_pruned: report.runs_of_deleted_jobs, run_retention_days: 30 }));
  });

  it("RUN_RETENTION_DAYS is a setting", async () => {
    const name = uniqueName("deleted-7");
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    await seed(name, ["real"], at(clockNow() - DAY));
    expect((await call("DELETE", `/jobs/${name}`)).status).toBe(200);
    await runRetention({ ...env, RUN_RETENTION_DAYS: "7" }, db(), new Date(clockNow() + 8 * DAY), []);
    expect(await runsOf(name)).toHaveLength(0);
  });

  it("a live job with the same name keeps its own runs", async () => {
    const name = uniqueName("reborn");
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    await seed(name, ["real"], at(clockNow() - 40 * DAY));
    expect((await call("DELETE", `/jobs/${name}`)).status).toBe(200);
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    await seed(name, ["real"], at(clockNow() - 40 * DAY));
    await runRetention(env, db(), new Date(clockNow() + 31 * DAY), []);
    const left = await runsOf(name);
    expect(left).toHaveLength(1);
    expect((left[0] as unknown as { job_id: number }).job_id).toBe((await jobRow(name))!.job_id);
  });
});

describe("the audit", () => {
  it("keeps AUDIT_RETENTION_DAYS (400), prunes older rows, and audits the pruning as a count", async () => {
    const name = uniqueName("old-audit");
    expect((await registerJob(name, { handler: "testNoop" })).status).toBe(201);
    const old = at(clockNow() - 401 * DAY);
    await env.DB.prepare("INSERT INTO audit_log (at, action, job_name, actor) VALUES (?, 'update', ?, 'api'), (?, 'update', ?, 'api')")
      .bind(old, name, old, name)
      .run();
    expect(await auditRows(name)).toHaveLength(3);
    const now = clockNow() + 1;
    const report = await runRetention(env, db(), new Date(now), []);
    expect(report.audit_rows).toBeGreaterThanOrEqual(2);
    expect((await auditRows(name)).map((r) => r.action)).toEqual(["register"]);
    const { results } = await env.DB.prepare("SELECT * FROM audit_log WHERE action = 'retention_prune' AND at = ?").bind(at(now)).all();
    const counted = results.map((r) => ({ actor: r.actor, after: JSON.parse(String(r.after)) }));
    expect(counted).toContainEqual({ actor: "retention", after: expect.objectContaining({ audit_rows_pruned: report.audit_rows, audit_retention_days: 400 }) });
  });

  it("a pass that prunes nothing writes no audit row", async () => {
    const now = clockNow() + 2;
    await runRetention(env, db(), new Date(now), []); // whatever was due
    const count = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'retention_prune'").first<{ n: number }>())!.n;
    const before = await count();
    const report = await runRetention(env, db(), new Date(now), []);
    expect(report).toEqual({ runs: 0, runs_of_deleted_jobs: 0, audit_rows: 0 });
    expect(await count()).toBe(before);
  });
});
