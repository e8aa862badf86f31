import { env } from "cloudflare:test";
import { createDb, type Db } from "../../src/db/client";
import { certifications, mentors, pauses } from "../../src/db/platform-schema";
import type { HandlerContext } from "../../src/handlers/types";

export const DB: D1Database = env.DB;

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** An instant `days` (and `hours`) away from `from`, in the stored format. */
export function at(from: Date, { days = 0, hours = 0, ms = 0 } = {}): string {
  return new Date(from.getTime() + days * DAY + hours * HOUR + ms).toISOString();
}

export function db(): Db {
  return createDb(DB);
}

/** Empties the platform tables: the handlers scan all of them, so exact counts need a clean slate. */
export async function resetPlatform(): Promise<void> {
  await DB.batch(
    // Children first: D1 enforces the foreign keys.
    ["notification_outbox", "reports", "report_items", "run_steps", "pauses", "certifications", "mentors"].map((t) =>
      DB.prepare(`DELETE FROM ${t}`),
    ),
  );
}

export async function addMentor(
  mentorId: string,
  opts: { status?: "active" | "paused"; certs?: { id: string; expiresAt: string; name?: string }[] } = {},
): Promise<void> {
  await db()
    .insert(mentors)
    .values({
      mentorId,
      name: `Mentor ${mentorId}`,
      email: `${mentorId}@example.org`,
      status: opts.status ?? "active",
      createdAt: "2030-01-01T00:00:00.000Z",
    });
  for (const cert of opts.certs ?? []) {
    await db()
      .insert(certifications)
      .values({ certificationId: cert.id, mentorId, name: cert.name ?? `Cert ${cert.id}`, expiresAt: cert.expiresAt });
  }
}

export async function addPause(
  mentorId: string,
  reason: string,
  opts: { autoLiftAt?: string | null; liftedAt?: string | null; pausedAt?: string } = {},
): Promise<number> {
  const [row] = await db()
    .insert(pauses)
    .values({
      mentorId,
      reason,
      pausedAt: opts.pausedAt ?? "2030-01-01T00:00:00.000Z",
      autoLiftAt: opts.autoLiftAt ?? null,
      liftedAt: opts.liftedAt ?? null,
    })
    .returning({ pauseId: pauses.pauseId });
  return row!.pauseId;
}

/** Every platform row, for "wrote nothing" / "changed nothing" comparisons. */
export async function snapshot(): Promise<Record<string, unknown[]>> {
  const tables = {
    mentors: "mentor_id",
    certifications: "certification_id",
    pauses: "pause_id",
    notification_outbox: "notification_id",
    reports: "report_id",
  };
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(tables)) {
    out[table] = (await DB.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all()).results;
  }
  return out;
}

let runs = 0;

/** A run's context; each call is a new run (its own run id) unless `runId` is given. */
export function ctx(now: Date, overrides: Partial<HandlerContext> = {}): HandlerContext {
  return { db: db(), now, dryRun: false, runId: `run-t${++runs}`, jobId: 1, jobName: "test-job", ...overrides };
}
