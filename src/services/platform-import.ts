import type { Db } from "../db/client";
import { ApiError } from "../lib/errors";
import { clock } from "../lib/clock";
import { auditEntry } from "../repositories/audit-repo";
import * as repo from "../repositories/platform-import-repo";
import type { CertificationInput, MentorInput } from "../repositories/platform-import-repo";
import type { Actor } from "./actor";

/**
 * Rows per request. A batch of 1,000 is about 100 KB of JSON, inside the 1 MiB
 * these routes accept, and one D1 batch of a few statements.
 */
export const MAX_ROWS = 1000;

/** Bad rows listed in a refusal; the message says how many there were in all. */
const ROWS_SHOWN = 20;

/** The audit trail's job_name for platform data: a slash cannot appear in a job name, so it never collides. */
export const PLATFORM_AUDIT_NAME = "platform/data";

export interface RowIssue {
  /** The row's position in the request's list (0-based); null when the issue is about the body as a whole. */
  index: number | null;
  field: string | null;
  reason: string;
}

export interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
  code: string;
  keys?: string[];
}

/** Turns zod's issues into a 400 naming each bad row by index, field and reason. Nothing has been written. */
export function rowIssues(issues: readonly ZodIssueLike[]): ApiError {
  const listed: RowIssue[] = issues.map((issue) => {
    const [, index, ...rest] = issue.path;
    const atRow = typeof index === "number";
    const unknown = issue.code === "unrecognized_keys" && issue.keys ? `unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}` : null;
    const field = atRow ? rest.map(String).join(".") || null : issue.path.map(String).join(".") || null;
    return { index: atRow ? index : null, field, reason: unknown ?? issue.message.replace(/^Invalid input: /, "") };
  });
  return refusal(400, "validation_error", listed);
}

function refusal(status: 400 | 422, code: string, issues: RowIssue[]): ApiError {
  const shown = issues.slice(0, ROWS_SHOWN);
  const words = shown.map((i) => (i.index === null ? `${i.field ? `${i.field}: ` : ""}${i.reason}` : `row ${i.index}${i.field ? ` (${i.field})` : ""}: ${i.reason}`));
  const more = issues.length > shown.length ? `; and ${issues.length - shown.length} more` : "";
  return new ApiError(status, code, `Nothing was written: ${words.join("; ")}${more}.`, { issues: shown, issue_count: issues.length });
}

/** The same audit fields as every other change (src/repositories/audit-repo.ts); the repository fills `after` with the counts. */
function audit(actor: Actor, action: string, now: Date): repo.AuditBase {
  return auditEntry(actor, action, PLATFORM_AUDIT_NAME, null, null, now);
}

/** Upserts a batch of mentors; all or none. New mentors get created_at = now. */
export function importMentors(db: Db, rows: MentorInput[], actor: Actor) {
  const now = clock.now();
  return repo.upsertMentors(db, rows, now.toISOString(), audit(actor, "platform_import", now));
}

/** Upserts a batch of certifications; all or none, and none when a row names a mentor that is not stored. */
export async function importCertifications(db: Db, rows: CertificationInput[], actor: Actor) {
  await refuseUnknownMentors(db, rows);
  try {
    return await repo.upsertCertifications(db, rows, audit(actor, "platform_import", clock.now()));
  } catch (error) {
    // A mentor deleted between the check and the batch: the foreign key refused the whole batch.
    if (/FOREIGN KEY/i.test(String((error as Error)?.message) + String((error as Error)?.cause))) {
      await refuseUnknownMentors(db, rows);
    }
    throw error;
  }
}

async function refuseUnknownMentors(db: Db, rows: CertificationInput[]): Promise<void> {
  const missing = new Set(await repo.findMissingMentors(db, rows.map((r) => r.mentor_id)));
  if (missing.size === 0) return;
  const issues = rows.flatMap((row, index) =>
    missing.has(row.mentor_id)
      ? [{ index, field: "mentor_id", reason: `no mentor "${row.mentor_id}" is stored; import it first (PUT /platform/mentors)` }]
      : [],
  );
  throw refusal(422, "unknown_mentor", issues);
}

export function deleteMentors(db: Db, ids: string[], actor: Actor) {
  return repo.deleteMentors(db, ids, audit(actor, "platform_delete", clock.now())).then((deleted) => ({ deleted }));
}

export function deleteCertifications(db: Db, ids: string[], actor: Actor) {
  return repo.deleteCertifications(db, ids, audit(actor, "platform_delete", clock.now())).then((deleted) => ({ deleted }));
}
